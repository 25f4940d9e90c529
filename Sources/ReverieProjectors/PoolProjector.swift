import ReverieCore
import ReverieNN

/// Emu2-style: average-pool the √P × √P patch grid to k × k, then one Linear; Q = k².
/// Option `grid` k (default 4, must divide √P). Keys: `proj.weight` [D, Dv], `proj.bias` [D].
public final class PoolProjector: Module, Projector {
    public static let kind = "pool"
    public let grid: Int
    public let proj: Linear
    public var outputDim: Int { proj.outFeatures }

    public struct Options: ProjectorOptions, Equatable {
        /// k: the pooled grid's side.
        public var grid = 4

        public init() {}
        public init(grid: Int) { self.grid = grid }

        public init(from decoder: Decoder) throws {
            try decoder.container(keyedBy: CodingKeys.self).update(&grid, .grid)
        }

        public func validate() throws { try require(grid, in: 1...4096, "grid") }

        public func validate(dimensions: ProjectorDimensions) throws {
            let side = Int(Double(dimensions.patches).squareRoot().rounded())
            try require(
                side * side == dimensions.patches && side % grid == 0, "grid",
                "\(grid) must divide the side of a square grid of \(dimensions.patches) patches")
        }
    }

    public init(options: Options, dimensions: ProjectorDimensions, rng: inout RNG) throws {
        try options.validate(dimensions: dimensions)
        grid = options.grid
        proj = try Linear(inFeatures: dimensions.inputDim, outFeatures: dimensions.outputDim, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) { v.child("proj", proj) }

    public func outputTokens(patches: Int) -> Int { grid * grid }

    /// features [B, P, Dv] → [B, k², D]
    public func callAsFunction(_ features: Tensor) throws -> Tensor {
        let (b, p, d) = (features.shape[0], features.shape[1], features.shape[2])
        let side = Int(Double(p).squareRoot().rounded())
        guard side * side == p, side % grid == 0 else {
            throw TensorError.shapeMismatch(
                op: "PoolProjector", detail: "\(p) patches are not a square grid divisible by \(grid)")
        }
        let image = try features.reshape([b, side, side, d]).permute([0, 3, 1, 2])  // [B, Dv, √P, √P]
        let pooled = try adaptiveAvgPool2d(image, outputSize: grid)  // [B, Dv, k, k]
        return try proj(pooled.reshape([b, d, grid * grid]).permute([0, 2, 1]))  // [B, k², D]
    }
}
