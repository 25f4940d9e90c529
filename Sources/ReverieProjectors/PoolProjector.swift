import ReverieCore
import ReverieNN

/// Emu2-style: average-pool the √P × √P patch grid to k × k, then one Linear; Q = k².
/// Option `grid` k (default 4, must divide √P). Keys: `proj.weight` [D, Dv], `proj.bias` [D].
public final class PoolProjector: Module, Projector {
    public static let kind = "pool"
    public let grid: Int
    public let proj: Linear
    public var outputDim: Int { proj.outFeatures }

    public init(spec: ProjectorSpec, rng: inout RNG) throws {
        var options = spec.reader()
        grid = try options.int("grid", default: 4)
        try options.finish()
        let side = Int(Double(spec.patches).squareRoot().rounded())
        guard side * side == spec.patches, side % grid == 0 else {
            throw ProjectorError.invalidOption(
                type: Self.kind, key: "grid",
                detail: "\(grid) must divide the side of a square grid of \(spec.patches) patches")
        }
        proj = try Linear(inFeatures: spec.inputDim, outFeatures: spec.outputDim, rng: &rng)
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
