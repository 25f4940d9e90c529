import ReverieCore
import ReverieNN

/// K learned query embeddings follow `<img>`; one forward pass yields all K conditions (DreamLLM, SEED-X,
/// MetaQuery). Key: `output_queries` [K, D].
public final class QueriesOutput: Module, OutputMode {
    public static let kind = "queries"
    public let queries: Tensor

    public init(dimensions: OutputDimensions, rng: inout RNG) throws {
        queries = Tensor(zeros: [dimensions.tokens, dimensions.hidden], requiresGrad: true)
        Init.normal(queries, std: 0.02, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) { v.parameter("output_queries", queries) }

    public var needsTargets: Bool { false }
    public static let readsTheImageItFollows = true
    public var predictionOffset: Int { 0 }

    /// The queries [1, K, D] (plus the grid positions when they lie on the same grid, so writing the token at
    /// (r, c) and reading the one there share a position), the same for every block.
    public func blockInputs(blocks: Int, targets: Tensor?, queryPositions: Tensor?) throws -> [Tensor?] {
        let (k, d) = (queries.shape[0], queries.shape[1])
        let block =
            try queryPositions.map { try (queries + $0.reshape([k, d])).reshape([1, k, d]) }
            ?? queries.reshape([1, k, d])
        return Array(repeating: block, count: blocks)
    }
}
