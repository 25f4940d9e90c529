import ReverieCore

/// The projector kinds by `type`. Adding a kind is one file (a `Projector`) and one line here (or one
/// `ProjectorRegistry.register(MyProjector.self)` call anywhere).
public enum ProjectorRegistry {
    /// How to read one kind's options and build it.
    public struct Kind: Sendable {
        /// Decodes the kind's options (from the recipe's `projector:` map, or a stored `model_config`).
        public let decodeOptions: @Sendable (Decoder) throws -> any ProjectorOptions
        /// The kind's default options.
        public let defaultOptions: @Sendable () -> any ProjectorOptions
        let build: @Sendable (any ProjectorOptions, ProjectorDimensions, inout RNG) throws -> any Projector
    }

    public static let shared = Registry<Kind>(
        family: "projector",
        [
            LinearProjector.kind: kind(LinearProjector.self),
            MLPProjector.kind: kind(MLPProjector.self),
            QFormerProjector.kind: kind(QFormerProjector.self),
            ResamplerProjector.kind: kind(ResamplerProjector.self),
            PoolProjector.kind: kind(PoolProjector.self),
        ])

    /// The registry entry of a projector type.
    public static func kind<P: Projector>(_ type: P.Type) -> Kind {
        Kind(
            decodeOptions: { try P.Options(from: $0) }, defaultOptions: { P.Options() },
            build: { options, dimensions, rng in
                guard let options = options as? P.Options else {
                    throw ConfigurationError(key: "type", "options of another kind given to '\(P.kind)'")
                }
                return try P(options: options, dimensions: dimensions, rng: &rng)
            })
    }

    /// Registers `type` under its `kind`.
    public static func register<P: Projector>(_ type: P.Type) { shared.register(P.kind, kind(type)) }

    /// The registered kinds, sorted.
    public static var kinds: [String] { shared.kinds }

    /// The projector `type` names, with `options` (its kind's defaults when nil), checked against `dimensions`.
    ///
    /// - Throws: `ConfigurationError` naming the key (`type` for an unknown kind, the option otherwise).
    public static func make(
        type: String, options: (any ProjectorOptions)? = nil, dimensions: ProjectorDimensions,
        rng: inout RNG
    ) throws -> any Projector {
        let kind = try shared.entry(type)
        let options = options ?? kind.defaultOptions()
        try options.validate()
        try options.validate(dimensions: dimensions)
        return try kind.build(options, dimensions, &rng)
    }
}
