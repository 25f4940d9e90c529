import ReverieCore

/// A sampler as a recipe or `--sampler` names it: the kind plus its options; it builds the `Sampler` for a
/// decoder's schedule and prediction type.
public protocol SamplerConfig: Codable, Sendable, SelfChecking {
    /// The name recipes and `--sampler` use (`ddim`, `euler`, `flow`).
    static var kind: String { get }
    init()
    func sampler(schedule: NoiseSchedule, prediction: PredictionType, steps: Int) throws -> any Sampler
}

/// The sampler kinds by name. A new sampler is one file (a `Sampler` and its `SamplerConfig`) and one line here,
/// or one `SamplerRegistry.register(MyConfig.self)` call.
public enum SamplerRegistry {
    public struct Kind: Sendable {
        public let decode: @Sendable (Decoder) throws -> any SamplerConfig
        public let defaultConfig: @Sendable () -> any SamplerConfig
    }

    public static let shared = Registry<Kind>(
        family: "sampler",
        [
            DDIMSampler.Config.kind: kind(DDIMSampler.Config.self),
            EulerDiscreteSampler.Config.kind: kind(EulerDiscreteSampler.Config.self),
            FlowEulerSampler.Config.kind: kind(FlowEulerSampler.Config.self),
        ])

    public static func kind<C: SamplerConfig>(_ type: C.Type) -> Kind {
        Kind(decode: { try C(from: $0) }, defaultConfig: { C() })
    }

    public static func register<C: SamplerConfig>(_ type: C.Type) { shared.register(C.kind, kind(type)) }

    /// The registered names, sorted.
    public static var kinds: [String] { shared.kinds }

    /// The default configuration of the sampler `name` (what `--sampler NAME` selects).
    public static func config(_ name: String) throws -> any SamplerConfig {
        try shared.entry(name, key: "sampler").defaultConfig()
    }
}

/// How a recipe writes a sampler: a name (`sampler: euler`) or a map with its options
/// (`sampler: {type: ddim, eta: 0.5}`). Stored the same way.
public struct SamplerSpec: Codable, Sendable {
    public var config: any SamplerConfig

    public init(_ config: any SamplerConfig = DDIMSampler.Config()) { self.config = config }

    public var kind: String { type(of: config).kind }

    enum CodingKeys: String, CodingKey { case type }

    public init(from decoder: Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            config = try SamplerRegistry.config(name)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .type)
        config = try SamplerRegistry.shared.entry(name).decode(decoder)
        try config.validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .type)
        try config.encode(to: encoder)
    }
}
