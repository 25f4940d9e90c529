import ReverieCore
import ReverieNN

/// How the LLM writes an output image's K condition tokens after `<img>`: what follows `<img>` in the sequence,
/// where the K predictions are read, and how generation produces them. Its parameters are its own (named at the
/// model's top level, `output_queries`, `condition_input`, …). A new mode is one file (an `OutputMode`) and one
/// `OutputModeRegistry` line; a recipe names it as `output: {mode: NAME}`.
public protocol OutputMode: Module {
    /// The name recipes use (`queries`, `autoregressive`).
    static var kind: String { get }
    init(dimensions: OutputDimensions, rng: inout RNG) throws
    /// Whether a training sequence needs the target images' conditions to lay out its blocks (teacher forcing).
    var needsTargets: Bool { get }
    /// Whether a block's K inputs sit one per condition token, so an output block may read the image it follows
    /// (residual output, source-informed queries, the change head).
    static var readsTheImageItFollows: Bool { get }
    /// The inputs after each `<img>` of one example, [1, n, D] per block (n may be 0), given the conditions of the
    /// example's target images [N, K, Dc] when `needsTargets` (nil otherwise); `queryPositions` [1, K, D] are the
    /// visual `grid` positions when the model has them on the K-token grid.
    func blockInputs(blocks: Int, targets: Tensor?, queryPositions: Tensor?) throws -> [Tensor?]
    /// Where block predictions start relative to the position right after `<img>`: 0 (at the block's own inputs)
    /// or −1 (at `<img>` itself, each input predicting the next token).
    var predictionOffset: Int { get }
    /// The K conditions [1, K, Dc] of the block a prompt opens (`prefix()`: its embeddings [1, T, D], ending at
    /// `<img>`), for a mode that writes them one at a time; nil when one forward pass over the block's inputs gives
    /// them all (the default; `prefix` is then never computed).
    func generate(_ model: MultimodalModel, prefix: () throws -> Tensor) throws -> Tensor?
}

extension OutputMode {
    public func generate(_ model: MultimodalModel, prefix: () throws -> Tensor) throws -> Tensor? { nil }
}

/// The widths an output mode works with.
public struct OutputDimensions: Sendable, Equatable {
    /// K condition tokens per image.
    public var tokens: Int
    /// D, the LLM's width.
    public var hidden: Int
    /// Dc, the condition width (the encoder's).
    public var condition: Int

    public init(tokens: Int, hidden: Int, condition: Int) {
        (self.tokens, self.hidden, self.condition) = (tokens, hidden, condition)
    }
}

/// The output modes by name.
public enum OutputModeRegistry {
    public struct Entry: Sendable {
        /// `OutputMode.readsTheImageItFollows` of the kind.
        public let readsTheImageItFollows: Bool
        let build: @Sendable (OutputDimensions, inout RNG) throws -> any OutputMode
    }

    public static let shared = Registry<Entry>(
        family: "output mode",
        [
            QueriesOutput.kind: entry(QueriesOutput.self),
            AutoregressiveOutput.kind: entry(AutoregressiveOutput.self),
        ])

    public static func entry<M: OutputMode>(_ type: M.Type) -> Entry {
        Entry(
            readsTheImageItFollows: M.readsTheImageItFollows, build: { dims, rng in try M(dimensions: dims, rng: &rng) }
        )
    }

    public static func register<M: OutputMode>(_ type: M.Type) { shared.register(M.kind, entry(type)) }

    public static var kinds: [String] { shared.kinds }

    public static func make(_ kind: String, dimensions: OutputDimensions, rng: inout RNG) throws -> any OutputMode {
        try shared.entry(kind, key: "mode").build(dimensions, &rng)
    }
}
