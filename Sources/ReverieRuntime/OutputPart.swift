import ReverieCore
import ReverieMultimodal

/// How the LLM writes images: the output mode, K condition tokens (the UNet's), and the head.
public struct OutputPart: Codable, Sendable, Equatable, SelfChecking {
    public var mode = OutputImageMode.queries
    public var head = OutputHeadKind.mlp
    public var headHidden = 256
    /// An output image after another image predicts the change of that image's conditions (queries mode).
    public var residual = false
    /// Queries that also read the conditions of the image they follow (queries mode).
    public var sourceQueries = false
    /// A change head that says which condition tokens an output image changes (queries mode; `ChangeMask`).
    public var changeHead = false
    /// Edits describe their result in text before drawing it (`MultimodalConfig.describeEdits`).
    public var describeEdits = false

    enum CodingKeys: String, CodingKey {
        case mode, head
        case headHidden = "head_hidden"
        case residual
        case sourceQueries = "source_queries"
        case
            changeHead = "change_head"
        case describeEdits = "describe_edits"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&mode, .mode)
        try c.update(&head, .head)
        try c.update(&headHidden, .headHidden)
        try c.update(&residual, .residual)
        try c.update(&sourceQueries, .sourceQueries)
        try c.update(&changeHead, .changeHead)
        try c.update(&describeEdits, .describeEdits)
    }

    public func validate() throws {
        try require(headHidden, in: 1...(1 << 18), "head_hidden")
        let kind = try OutputModeRegistry.shared.entry(mode.rawValue, key: "mode")
        for (key, on) in [("residual", residual), ("source_queries", sourceQueries), ("change_head", changeHead)] {
            try require(
                !on || kind.readsTheImageItFollows, key,
                "needs an output mode that reads the image a block "
                    + "follows (queries), not \(mode)")
        }
    }
}
