import ReverieCore
import ReverieNN

/// Where a visual token sits, as a learned embedding added to it.
public enum VisualPositionKind: String, Sendable, Equatable, ConfigurationChoice {
    /// No position added (the LLM has only the features and RoPE order).
    case none
    /// One learned vector per visual token (`table` [Q, D]).
    case token
    /// A factorised 2D grid: token (r, c) gets rows[r] + columns[c] (`rows`, `columns` [s, D], Q = s²); also added
    /// to output queries that lie on the same grid (K = Q), so reading and writing share positions.
    case grid
}

/// The learned positions of the Q visual tokens (keys under `visual_positions.`).
public final class VisualPositions: Module {
    public let kind: VisualPositionKind
    public let count: Int
    public let table: Tensor?
    public let rows: Tensor?
    public let columns: Tensor?

    /// - Throws: `MultimodalError.invalidConfiguration` for `grid` when Q is not a square, or for `none`.
    public init(kind: VisualPositionKind, count: Int, dim: Int, rng: inout RNG) throws {
        (self.kind, self.count) = (kind, count)
        func learned(_ shape: [Int]) -> Tensor {
            let t = Tensor(zeros: shape, requiresGrad: true)
            Init.normal(t, std: 0.02, rng: &rng)
            return t
        }
        switch kind {
        case .none:
            throw MultimodalError.invalidConfiguration(key: "visual_positions", detail: "kind none has no module")
        case .token:
            (table, rows, columns) = (learned([count, dim]), nil, nil)
        case .grid:
            let side = Int(Double(count).squareRoot().rounded())
            guard side * side == count else {
                throw MultimodalError.invalidConfiguration(
                    key: "visual_positions",
                    detail: "grid positions need a square number of visual tokens, got \(count)")
            }
            table = nil
            rows = learned([side, dim])
            columns = learned([side, dim])
        }
        super.init()
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("table", table)
        v.parameter("rows", rows)
        v.parameter("columns", columns)
    }

    /// [Q, D]; for `grid`, row-major: entry r·s + c is rows[r] + columns[c].
    public func callAsFunction() throws -> Tensor {
        if let table { return table }
        guard let rows, let columns else { return Tensor(zeros: [count, 0]) }
        let (s, d) = (rows.shape[0], rows.shape[1])
        return try (rows.reshape([s, 1, d]) + columns.reshape([1, s, d])).reshape([s * s, d])
    }
}
