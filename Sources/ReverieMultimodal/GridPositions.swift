import ReverieCore
import ReverieNN

/// Learned 2D positions of an s × s token grid, factorised: position (r, c) = rows[r] + columns[c]
/// (keys `rows` [s, D], `columns` [s, D]). Every token of a row shares its row vector, so a word like "top" can
/// bind to three rows of vectors rather than to each of the s² positions separately.
public final class GridPositions: Module {
    public let side: Int
    public let rows: Tensor
    public let columns: Tensor

    public init(side: Int, dim: Int, rng: inout RNG) {
        self.side = side
        rows = Tensor(zeros: [side, dim], requiresGrad: true)
        columns = Tensor(zeros: [side, dim], requiresGrad: true)
        Init.normal(rows, std: 0.02, rng: &rng)
        Init.normal(columns, std: 0.02, rng: &rng)
        super.init()
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("rows", rows)
        v.parameter("columns", columns)
    }

    /// [s², D], row-major: entry r·s + c is rows[r] + columns[c].
    public func callAsFunction() throws -> Tensor {
        let d = rows.shape[1]
        return try (rows.reshape([side, 1, d]) + columns.reshape([1, side, d])).reshape([side * side, d])
    }
}
