import ReverieCore
import ReverieData

/// ShapesWorld data of a stage: the world's seed, the canvas, and what a stage draws from it (`mixture` and
/// `edit_kinds` for the mllm stage, `edit_pairs` for the decoder's).
public struct DataSpec: Codable, Sendable, Equatable, SelfChecking {
    public var worldSeed: UInt64 = 1
    public var canvas = 64
    /// Relative weights of caption, text_to_image, edit, interleaved samples.
    public var mixture = Mixture.default
    /// Relative weights of the kinds of the mixture's edit samples (`EditKind` names; empty: every kind equally
    /// often, as the evaluation world has them).
    public var editKinds = Weights([])
    /// The share of each batch drawn as edit pairs (target image, source latent) for a UNet that takes a source
    /// latent; the rest are single images with no source.
    public var editPairs = 0.0

    /// Named non-negative weights, in a fixed order of names, at least one positive.
    public struct Weights: Codable, Sendable, Equatable {
        public var pairs: [(String, Double)]
        public init(_ pairs: [(String, Double)]) { self.pairs = pairs }

        public static func == (a: Weights, b: Weights) -> Bool {
            a.pairs.map(\.0) == b.pairs.map(\.0) && a.pairs.map(\.1) == b.pairs.map(\.1)
        }

        struct Name: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        /// Decodes the weights of `names` (in that order); any other key is unknown.
        init(from decoder: Decoder, names: [String]) throws {
            let c = try decoder.container(keyedBy: Name.self)
            pairs = try names.compactMap { n in
                try c.decodeIfPresent(Double.self, forKey: Name(stringValue: n)).map { (n, $0) }
            }
            guard pairs.contains(where: { $0.1 > 0 }), !pairs.contains(where: { $0.1 < 0 }) else {
                throw ConfigurationError(key: "", "weights must be ≥ 0 with at least one positive")
            }
        }

        public init(from decoder: Decoder) throws {
            try self.init(from: decoder, names: EditKind.allCases.map(\.rawValue))
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Name.self)
            for (n, w) in pairs { try c.encode(w, forKey: Name(stringValue: n)) }
        }
    }

    /// The record kinds a mixture weighs.
    public struct Mixture: Codable, Sendable, Equatable {
        public static let kinds = ["caption", "text_to_image", "edit", "interleaved"]
        public static let `default` = Mixture(
            Weights([
                ("caption", 1), ("text_to_image", 1), ("edit", 1),
                ("interleaved", 0.5),
            ]))
        public var weights: Weights
        init(_ weights: Weights) { self.weights = weights }
        public init(from decoder: Decoder) throws { weights = try Weights(from: decoder, names: Self.kinds) }
        public func encode(to encoder: Encoder) throws { try weights.encode(to: encoder) }
    }

    enum CodingKeys: String, CodingKey {
        case worldSeed = "world_seed"
        case canvas, mixture
        case editKinds = "edit_kinds"
        case editPairs = "edit_pairs"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&worldSeed, .worldSeed)
        try c.update(&canvas, .canvas)
        try c.update(&mixture, .mixture)
        try c.update(&editKinds, .editKinds)
        try c.update(&editPairs, .editPairs)
    }

    public func validate() throws {
        try require(canvas, in: 8...4096, "canvas")
        try require((0...1).contains(editPairs), "edit_pairs", "must be in 0.0...1.0, got \(editPairs)")
    }

    /// The world the stage trains on.
    public var world: ShapesWorld { ShapesWorld(seed: worldSeed, canvas: canvas) }
}

/// The learning-rate schedule after warmup.
public enum ScheduleKind: String, ConfigurationChoice {
    case cosine, constant
}

/// AdamW with linear warmup and a cosine (or constant) schedule, and gradient clipping.
public struct OptimSpec: Codable, Sendable, Equatable, SelfChecking {
    public var lr = 3e-4, minLR = 0.0, weightDecay = 0.01, beta1 = 0.9, beta2 = 0.999
    public var warmup = 0
    public var schedule = ScheduleKind.cosine
    /// Global gradient-norm clip; 0 turns clipping off.
    public var clip = 1.0

    enum CodingKeys: String, CodingKey {
        case lr
        case minLR = "min_lr"
        case weightDecay = "weight_decay"
        case beta1, beta2, warmup, schedule, clip
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&lr, .lr)
        try c.update(&minLR, .minLR)
        try c.update(&weightDecay, .weightDecay)
        try c.update(&beta1, .beta1)
        try c.update(&beta2, .beta2)
        try c.update(&warmup, .warmup)
        try c.update(&schedule, .schedule)
        try c.update(&clip, .clip)
    }

    public func validate() throws {
        for (key, v, r) in [
            ("lr", lr, 0.0...10), ("min_lr", minLR, 0...10), ("weight_decay", weightDecay, 0...10),
            ("beta1", beta1, 0...0.999999), ("beta2", beta2, 0...0.999999), ("clip", clip, 0...1e9),
        ] {
            try require(r.contains(v), key, "must be in \(r.lowerBound)...\(r.upperBound), got \(v)")
        }
        try require(warmup, in: 0...Int(Int32.max), "warmup")
        try require(minLR <= lr, "min_lr", "exceeds lr \(lr)")
    }
}

/// Steps, batch size, gradient accumulation and log cadence (`train:`), checkpoint cadence (`checkpoint:`).
public struct LoopSpec: Codable, Sendable, Equatable, SelfChecking {
    public var steps = 100, batch = 8, accumulate = 1
    /// Log a metrics line every N steps.
    public var logEvery = 10
    /// Write `last.h5` every N steps (0: only at the end and on Ctrl-C); read from `checkpoint: {every: N}`.
    public var checkpointEvery = 0

    enum CodingKeys: String, CodingKey {
        case steps, batch, accumulate
        case logEvery = "log_every"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&steps, .steps)
        try c.update(&batch, .batch)
        try c.update(&accumulate, .accumulate)
        try c.update(&logEvery, .logEvery)
    }

    public func validate() throws {
        // Bounded so that a typo cannot promise a run that never ends or a batch that cannot be held.
        try require(steps, in: 1...100_000_000, "steps")
        try require(batch, in: 1...65_536, "batch")
        try require(accumulate, in: 1...1024, "accumulate")
        try require(logEvery, in: 1...100_000_000, "log_every")
    }

    /// `checkpoint: {every: N}`.
    struct Checkpointing: Codable, SelfChecking {
        var every = 0
        init(from decoder: Decoder) throws {
            try decoder.container(keyedBy: CodingKeys.self).update(&every, .every)
        }
        func validate() throws { try require(every, in: 0...100_000_000, "every") }
    }
}
