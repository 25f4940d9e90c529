import ReverieCore

/// A fully connected layer, `y = x Wᵀ + b`, with PyTorch's layout and initialisation.
///
/// Keys: `weight` [out, in], `bias` [out] (when enabled) — the layout of `torch.nn.Linear`, so Hugging Face
/// weights load without transposes — and `lora_A.weight`, `lora_B.weight` with an adapter. The product passes `W` to BLAS as transposed, never copying it.
public final class Linear: Module {
    public let inFeatures: Int
    public let outFeatures: Int
    /// [out, in]
    public let weight: Tensor
    /// [out], or nil for a bias-free layer.
    public let bias: Tensor?
    /// A LoRA update beside the weight (`attachAdapter`), or nil.
    public internal(set) var adapter: LowRankAdapter?

    /// Weight and bias uniform in ±1/√in, as `torch.nn.Linear.reset_parameters`.
    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, rng: inout RNG) throws {
        try requirePositive("Linear", ["inFeatures": inFeatures, "outFeatures": outFeatures])
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        (weight, self.bias) = Init.weightAndBias([outFeatures, inFeatures], fanIn: inFeatures, bias: bias, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("weight", weight)
        v.parameter("bias", bias)
        if let adapter {
            v.child("lora_A", adapter.a)
            v.child("lora_B", adapter.b)
        }
    }

    /// x [..., in] → [..., out]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
            throw TensorError.shapeMismatch(
                op: "Linear(\(inFeatures) → \(outFeatures))",
                detail: "input \(shapeString(x.shape)) must end in \(inFeatures)")
        }
        // matmul wants rank ≥ 2; a single vector becomes a one-row matrix and back.
        let rows = x.rank == 1 ? try x.reshape([1, inFeatures]) : x
        var y = try linear(rows, weight: weight, bias: bias)  // [..., out]
        if let adapter { y = try y + adapter.update(rows) }
        return x.rank == 1 ? try y.reshape([outFeatures]) : y
    }
}
