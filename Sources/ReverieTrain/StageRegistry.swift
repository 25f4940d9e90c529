import Foundation
import ReverieCore
import ReverieRuntime

/// A stage's `loss:` section: its own keys, defaults and checks (a stage reads no other stage's loss keys).
public protocol StageLossConfig: Codable, Sendable, SelfChecking {
    init()
}

/// A training stage kind: its name, the parts it needs, its loss configuration, and how to build it. A new stage
/// is one file (a `TrainingStage` conforming to this) and one `StageRegistry` line.
public protocol StageDefinition: TrainingStage {
    associatedtype Loss: StageLossConfig
    /// The name recipes give it (`stage: decoder`).
    static var kind: StageKind { get }
    /// The parts the stage builds or loads (and no others).
    static var requiredParts: [PartName] { get }
    /// The `data:` keys the stage reads beyond `world_seed` and `canvas` (a recipe that sets another is refused).
    static var dataKeys: Set<String> { get }
    /// What the stage reads from its data (a source without any is refused before training).
    static func dataUses(_ recipe: Recipe) -> [DataUse]
    /// Checks across a recipe's sections that only this stage knows (a loss that needs a model option, …).
    static func check(_ recipe: Recipe, loss: Loss) throws
    /// The stage over `parts` with fresh weights; `recipe` nil for inference-time rebuilding.
    init(parts: ModelParts, recipe: Recipe?, rng: inout RNG) throws
}

extension StageDefinition {
    public static var dataKeys: Set<String> { [] }
    public static func check(_ recipe: Recipe, loss: Loss) throws {}
    public var kind: StageKind { Self.kind }
}

/// The name of a stage kind (`siglip`, `vae`, `decoder`, `mllm`, or a registered one).
public struct StageKind: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { rawValue = name }
    public var description: String { rawValue }

    public static let siglip = StageKind("siglip"), vae = StageKind("vae"), decoder = StageKind("decoder"),
        mllm = StageKind("mllm")
}

/// The stage kinds by name.
public enum StageRegistry {
    public struct Entry: Sendable {
        public let requiredParts: [PartName]
        public let dataKeys: Set<String>
        public let decodeLoss: @Sendable (RecipeNode, String) throws -> any StageLossConfig
        public let defaultLoss: @Sendable () -> any StageLossConfig
        let check: @Sendable (Recipe) throws -> Void
        let dataUses: @Sendable (Recipe) -> [DataUse]
        let make: @Sendable (ModelParts, Recipe?, inout RNG) throws -> any TrainingStage
    }

    public static let shared = Registry<Entry>(
        family: "stage",
        [
            SiglipStage.kind.rawValue: entry(SiglipStage.self),
            VAEStage.kind.rawValue: entry(VAEStage.self),
            DecoderStage.kind.rawValue: entry(DecoderStage.self),
            MLLMStage.kind.rawValue: entry(MLLMStage.self),
        ])

    public static func entry<S: StageDefinition>(_ type: S.Type) -> Entry {
        Entry(
            requiredParts: S.requiredParts, dataKeys: S.dataKeys,
            decodeLoss: { node, path in try RecipeDecoder.decode(S.Loss.self, from: node, path: path) },
            defaultLoss: { S.Loss() },
            check: { recipe in try S.check(recipe, loss: recipe.loss(S.Loss.self)) },
            dataUses: { S.dataUses($0) },
            make: { parts, recipe, rng in try S(parts: parts, recipe: recipe, rng: &rng) })
    }

    public static func register<S: StageDefinition>(_ type: S.Type) { shared.register(S.kind.rawValue, entry(type)) }

    public static var kinds: [String] { shared.kinds }

    public static func entry(_ kind: StageKind) throws -> Entry { try shared.entry(kind.rawValue, key: "stage") }

    /// The stages whose `loss:` has `key` (for the hint of an unknown loss key).
    public static func stages(withLossKey key: String) -> [String] {
        kinds.filter { kind in
            guard let entry = try? shared.entry(kind),
                let data = try? JSONEncoder().encode(AnyLoss(entry.defaultLoss())),
                let keys = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return false }
            return keys[key] != nil
        }
    }

    /// The stages whose `data:` reads `key`.
    public static func stages(withDataKey key: String) -> [String] {
        kinds.filter { (try? shared.entry($0).dataKeys.contains(key)) == true }
    }

    struct AnyLoss: Encodable {
        let loss: any StageLossConfig
        init(_ loss: any StageLossConfig) { self.loss = loss }
        func encode(to encoder: Encoder) throws { try loss.encode(to: encoder) }
    }
}
