import ReverieCore

/// Builds a projector from a recipe's `type`. Adding a kind is one file (a `Projector` with `init(spec:rng:)`)
/// and one line here.
public enum ProjectorRegistry {
    public typealias Builder = (ProjectorSpec, inout RNG) throws -> any Projector

    /// `type` → builder.
    public static let builders: [String: Builder] = [
        LinearProjector.kind: { try LinearProjector(spec: $0, rng: &$1) },
        MLPProjector.kind: { try MLPProjector(spec: $0, rng: &$1) },
        QFormerProjector.kind: { try QFormerProjector(spec: $0, rng: &$1) },
        ResamplerProjector.kind: { try ResamplerProjector(spec: $0, rng: &$1) },
        PoolProjector.kind: { try PoolProjector(spec: $0, rng: &$1) },
    ]

    /// The registered kinds, sorted.
    public static var kinds: [String] { builders.keys.sorted() }

    /// The projector `spec.type` names; throws on an unknown type or option.
    public static func make(_ spec: ProjectorSpec, rng: inout RNG) throws -> any Projector {
        guard let build = builders[spec.type] else { throw ProjectorError.unknownType(spec.type, known: kinds) }
        return try build(spec, &rng)
    }
}
