import Foundation
import ReverieCore
import ReverieMultimodal
import ReverieProjectors

/// A projector: `type` (a `ProjectorRegistry` kind), the kind's own options beside it, and the learned positions
/// added to the visual tokens. Recipe and `model_config` share one flat layout:
/// `{type: qformer, queries: 16, depth: 2, positions: token}`.
public struct ProjectorPart: Codable, Sendable, Equatable, SelfChecking {
    public var type = "mlp"
    /// Learned positions added to the visual tokens: `none`, `token` (one per token) or `grid` (rows + columns).
    public var positions = VisualPositionKind.none
    /// The kind's options (`MLPProjector.Options`, …), decoded by the kind's registry entry.
    public var options: any ProjectorOptions

    enum CodingKeys: String, CodingKey {
        case type, positions
        /// Checkpoints written before 2026-12-07 nested the options (numbers and strings apart).
        case legacyOptions = "options"
        case legacyStringOptions = "string_options"
    }

    public init() { options = MLPProjector.Options() }

    public init(type: String, options: (any ProjectorOptions)? = nil, positions: VisualPositionKind = .none) throws {
        self.type = type
        self.options = try options ?? ProjectorRegistry.shared.entry(type).defaultOptions()
        self.positions = positions
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&type, .type)
        try c.update(&positions, .positions)
        let kind = try ProjectorRegistry.shared.entry(type)
        if c.contains(.legacyOptions) {
            _ = try c.decodeIfPresent([String: String].self, forKey: .legacyStringOptions)
            options = try kind.decodeOptions(try c.superDecoder(forKey: .legacyOptions))
        } else {
            options = try kind.decodeOptions(decoder)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(positions, forKey: .positions)
        try options.encode(to: encoder)
    }

    public func validate() throws { try options.validate() }

    public static func == (a: ProjectorPart, b: ProjectorPart) -> Bool {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return (try? e.encode(a)) == (try? e.encode(b))
    }
}
