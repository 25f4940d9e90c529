import ReverieCore

/// Layer normalisation over the last dimension (`torch.nn.LayerNorm`). Keys: `weight` [dim] (ones), `bias` [dim]
/// (zeros), both absent when `affine` is false.
public final class LayerNorm: Module {
    public let dim: Int
    public let eps: Float
    public let weight: Tensor?
    public let bias: Tensor?

    public init(dim: Int, eps: Float = 1e-5, affine: Bool = true, bias: Bool = true) throws {
        try requirePositive("LayerNorm", ["dim": dim])
        self.dim = dim
        self.eps = eps
        weight = affine ? Tensor(repeating: 1, shape: [dim], requiresGrad: true) : nil
        self.bias = affine && bias ? Init.parameter([dim]) : nil
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("weight", weight)
        v.parameter("bias", bias)
    }

    /// x [..., dim] → [..., dim]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.shape.last == dim else {
            throw TensorError.shapeMismatch(
                op: "LayerNorm(\(dim))", detail: "input \(shapeString(x.shape)) must end in \(dim)")
        }
        return try layerNorm(x, weight: weight, bias: bias, eps: eps)
    }
}
