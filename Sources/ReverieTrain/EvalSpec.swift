import ReverieCore
import ReverieData
import ReverieRuntime

/// A stage's evaluation (`eval:`): how often, how many items of which (never trained on) world, and how the model
/// draws them — the same `DrawingOptions` the inference commands take (`sampler`, `sample_steps`, `guidance`,
/// `keep_threshold`, `keep_grow`).
public struct EvalSpec: Codable, Sendable, SelfChecking {
    /// Evaluate every N steps (0: only at the end, when the stage evaluates at all).
    public var every = 0
    public var count = 16
    /// The evaluation world's seed.
    public var seed = ShapesWorld.evaluationSeed
    public var drawing = DrawingOptions()

    enum CodingKeys: String, CodingKey { case every, count, seed }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&every, .every)
        try c.update(&count, .count)
        try c.update(&seed, .seed)
        drawing = try DrawingOptions(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(every, forKey: .every)
        try c.encode(count, forKey: .count)
        try c.encode(seed, forKey: .seed)
        try drawing.encode(to: encoder)
    }

    public func validate() throws {
        try require(every, in: 0...Int(Int32.max), "every")
        try require(count, in: 1...1_000_000, "count")
        try drawing.validate()
    }
}
