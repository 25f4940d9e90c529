import Foundation
import ReverieCore
import ReverieData

/// A stage's data: its sources with weights (`sources: [{shapes: {world_seed: 4}, weight: 1}, …]`, or the keys of
/// one ShapesWorld source directly under `data:`), the canvas every image is brought to, and what a stage draws
/// from them (`edit_pairs` for the decoder stage).
public struct DataSpec: Codable, Sendable, SelfChecking {
    /// The sources and their relative weights (default: one ShapesWorld source).
    public var sources: [Source] = [Source(config: ShapesSource.Config(), weight: 1)]
    public var canvas = 64
    /// The share of each batch drawn as edit pairs (target image, source latent) for a UNet that takes a source
    /// latent; the rest are single images with no source.
    public var editPairs = 0.0
    /// Random crop and flip of training images (the vae and decoder stages).
    public var augment = Augmentation()
    /// A manifest the stage's evaluations score on instead of ShapesWorld (nil: ShapesWorld's evaluation world).
    public var evalManifest: String?

    /// One source of `sources`: `{<kind>: {options}, weight: w}`.
    public struct Source: Codable, Sendable {
        public var config: any DataSourceConfig
        public var weight = 1.0

        public init(config: any DataSourceConfig, weight: Double = 1) { (self.config, self.weight) = (config, weight) }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            let kinds = c.allKeys.filter { $0.stringValue != "weight" }
            guard kinds.count == 1, let key = kinds.first else {
                throw ConfigurationError(
                    key: "",
                    "needs exactly one source kind (\(DataSourceRegistry.kinds.joined(separator: ", "))) and "
                        + "an optional weight")
            }
            let options = try c.superDecoder(forKey: key)  // read first: the kind, not a stray key, is at fault
            let entry = try DataSourceRegistry.shared.entry(key.stringValue, key: key.stringValue)
            do {
                config = try entry.decode(options)
                try config.validate()
            } catch let e as ConfigurationError {
                throw e.nested(under: key.stringValue)
            }
            try c.update(&weight, AnyKey(stringValue: "weight"))
            try require(weight > 0 && weight.isFinite, "weight", "must be positive, got \(weight)")
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encode(weight, forKey: AnyKey(stringValue: "weight"))
            try config.encode(to: c.superEncoder(forKey: AnyKey(stringValue: type(of: config).kind)))
        }
    }

    /// Named non-negative weights, in a fixed order of names, at least one positive.
    public struct Weights: Codable, Sendable, Equatable {
        public var pairs: [(String, Double)]
        public init(_ pairs: [(String, Double)]) { self.pairs = pairs }

        public static func == (a: Weights, b: Weights) -> Bool {
            a.pairs.map(\.0) == b.pairs.map(\.0) && a.pairs.map(\.1) == b.pairs.map(\.1)
        }

        /// Decodes the weights of `names` (in that order); any other key is unknown.
        init(from decoder: Decoder, names: [String]) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            pairs = try names.compactMap { n in
                try c.decodeIfPresent(Double.self, forKey: AnyKey(stringValue: n)).map { (n, $0) }
            }
            guard pairs.contains(where: { $0.1 > 0 }), !pairs.contains(where: { $0.1 < 0 }) else {
                throw ConfigurationError(key: "", "weights must be ≥ 0 with at least one positive")
            }
        }

        public init(from decoder: Decoder) throws {
            try self.init(from: decoder, names: EditKind.allCases.map(\.rawValue))
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            for (n, w) in pairs { try c.encode(w, forKey: AnyKey(stringValue: n)) }
        }
    }

    /// The record kinds a mixture weighs.
    public struct Mixture: Codable, Sendable, Equatable {
        public static let kinds = ["caption", "text_to_image", "edit", "interleaved"]
        public static let `default` = Mixture(
            Weights([("caption", 1), ("text_to_image", 1), ("edit", 1), ("interleaved", 0.5)]))
        public var weights: Weights
        init(_ weights: Weights) { self.weights = weights }
        public init(from decoder: Decoder) throws { weights = try Weights(from: decoder, names: Self.kinds) }
        public func encode(to encoder: Encoder) throws { try weights.encode(to: encoder) }
    }

    enum CodingKeys: String, CodingKey {
        case sources, manifest, canvas, augment
        case evalManifest = "eval_manifest"
        case editPairs = "edit_pairs"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&canvas, .canvas)
        try c.update(&editPairs, .editPairs)
        try c.update(&augment, .augment)
        if var path = try c.decodeIfPresent(String.self, forKey: .evalManifest) {
            if let base = decoder.userInfo[.recipeDirectory] as? URL, !path.hasPrefix("/") {
                path = base.appendingPathComponent(path).path
            }
            try require(FileManager.default.fileExists(atPath: path), "eval_manifest", "\(path) does not exist")
            evalManifest = path
        }
        let short = try decoder.container(keyedBy: ShapesSource.Config.CodingKeys.self)
        let shapesKey = ShapesSource.Config.CodingKeys.allCases.first(where: short.contains)
        if let list = try c.decodeIfPresent([Source].self, forKey: .sources) {
            try require(!list.isEmpty, "sources", "needs at least one source")
            try require(!c.contains(.manifest), "manifest", "beside `sources`: add it as a manifest source")
            if let key = shapesKey {
                throw ConfigurationError(
                    key: key.stringValue, "a ShapesWorld option beside `sources`: put it in the shapes source")
            }
            sources = list
        } else if var path = try c.decodeIfPresent(String.self, forKey: .manifest) {  // one manifest, short form
            if let key = shapesKey {
                throw ConfigurationError(key: key.stringValue, "a ShapesWorld option beside `manifest`")
            }
            if let base = decoder.userInfo[.recipeDirectory] as? URL, !path.hasPrefix("/") {
                path = base.appendingPathComponent(path).path
            }
            sources = [Source(config: ManifestData.Config(path: path))]
        } else {  // the short form: one ShapesWorld source from the keys under data:
            let config = try ShapesSource.Config(from: decoder)
            try config.validate()
            sources = [Source(config: config)]
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sources, forKey: .sources)
        try c.encode(canvas, forKey: .canvas)
        try c.encode(editPairs, forKey: .editPairs)
        try c.encode(augment, forKey: .augment)
        try c.encodeIfPresent(evalManifest, forKey: .evalManifest)
    }

    public func validate() throws {
        // One item's activations grow with the pixels and the autoencoder's attention with their square: at 2048 a
        // side, one image through the shapes VAE needs more memory than the step check could safely measure.
        try require(canvas, in: 8...1024, "canvas")
        try require((0...1).contains(editPairs), "edit_pairs", "must be in 0.0...1.0, got \(editPairs)")
    }

    /// The seeds of its ShapesWorld sources (an evaluation world must be none of them).
    public var worldSeeds: [UInt64] { sources.compactMap { ($0.config as? ShapesSource.Config)?.worldSeed } }

    /// The stream the stage trains on: the sources at the canvas, mixed by weight.
    public func training() throws -> any TrainingData {
        let made = try sources.map { (try $0.config.make(canvas: canvas), $0.weight) }
        return made.count == 1 ? made[0].0 : SourceMixture(made, canvas: canvas)
    }
}

/// A coding key of any name (maps whose keys are data: weights by name, sources by kind).
struct AnyKey: CodingKey {
    let stringValue: String
    init(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
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
