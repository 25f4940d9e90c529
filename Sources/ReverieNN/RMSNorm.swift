import ReverieCore

/// Root-mean-square normalisation over the last dimension (Hugging Face `LlamaRMSNorm`). Key: `weight` [dim],
/// initialised to ones.
public final class RMSNorm: Module {
    public let dim: Int
    public let eps: Float
    public let weight: Tensor

    public init(dim: Int, eps: Float = 1e-6) throws {
        try requirePositive("RMSNorm", ["dim": dim])
        self.dim = dim
        self.eps = eps
        weight = Tensor(repeating: 1, shape: [dim], requiresGrad: true)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("weight", weight)
    }

    /// x [..., dim] → [..., dim]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.shape.last == dim else {
            throw TensorError.shapeMismatch(
                op: "RMSNorm(\(dim))", detail: "input \(shapeString(x.shape)) must end in \(dim)")
        }
        return try rmsNorm(x, weight: weight, eps: eps)
    }
}
