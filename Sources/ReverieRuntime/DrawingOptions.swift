import ReverieCore
import ReverieDiffusion
import ReverieMultimodal

/// How a trained model draws: the sampler, its steps, guidance, the noise seed, and how edits keep their source.
/// One value for the CLI's inference commands, a stage's evaluation (a recipe's `eval:` keys `sampler`,
/// `sample_steps`, `guidance`, `keep_threshold`, `keep_grow`) and the pipeline's final evaluation; the defaults
/// here are the only ones.
public struct DrawingOptions: Codable, Sendable, SelfChecking {
    public var sampler = SamplerSpec()
    /// Denoising steps (an x0-predicting decoder needs few).
    public var steps = 10
    /// Classifier-free guidance scale (1 = none).
    public var guidance: Float = 1
    /// The initial (and DDIM) noise's seed.
    public var seed: UInt64 = 0
    /// Edits keep the source wherever the conditions change by at most this fraction of their energy, or, with a
    /// change head, wherever it says unchanged (0 redraws everything).
    public var keepThreshold: Float = 0.25
    /// Tokens each way an edit's changed region grows (nil: 0 with a change head, 1 without).
    public var keepGrow: Int?

    enum CodingKeys: String, CodingKey {
        case sampler
        case steps = "sample_steps"
        case guidance
        case seed = "noise_seed"
        case keepThreshold = "keep_threshold"
        case
            keepGrow = "keep_grow"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&sampler, .sampler)
        try c.update(&steps, .steps)
        try c.update(&guidance, .guidance)
        try c.update(&seed, .seed)
        try c.update(&keepThreshold, .keepThreshold)
        keepGrow = try c.decodeIfPresent(Int.self, forKey: .keepGrow)
    }

    public func validate() throws {
        try require(steps, in: 1...10_000, "sample_steps")
        try require(guidance >= 0 && guidance <= 100, "guidance", "must be in 0...100, got \(guidance)")
        // A fraction of the conditions' energy (NaN fails both comparisons).
        try require(
            keepThreshold >= 0 && keepThreshold <= 1, "keep_threshold", "must be in 0...1, got \(keepThreshold)")
        if let keepGrow { try require(keepGrow, in: 0...1024, "keep_grow") }
        try sampler.config.validate()
    }

    /// How edits keep their source (nil: redraw everything).
    public var keeping: SourceKeeping? { SourceKeeping.at(keepThreshold, grow: keepGrow) }
}
