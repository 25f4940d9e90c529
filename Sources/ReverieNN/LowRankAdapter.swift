import ReverieCore

/// LoRA (Hu et al. 2021) in PEFT's layout: beside a linear layer's frozen `W`, a trainable low-rank update
/// `scale · B A`, A [r, in] initialised as a `Linear` is (PEFT's kaiming-uniform), B [out, r] zero, so training
/// starts from the base model exactly; scale = alpha / r. Its keys sit under the layer's: `lora_A.weight`,
/// `lora_B.weight`.
public final class LowRankAdapter: Module {
    public let a: Linear
    public let b: Linear
    public let rank: Int
    public let scale: Float

    public init(inFeatures: Int, outFeatures: Int, rank: Int, alpha: Float, rng: inout RNG) throws {
        guard rank > 0, rank <= Swift.min(inFeatures, outFeatures), alpha > 0, alpha.isFinite else {
            throw TensorError.invalidArgument(
                op: "LowRankAdapter",
                detail: "rank \(rank) must be in 1...\(Swift.min(inFeatures, outFeatures)), alpha \(alpha) positive")
        }
        a = try Linear(inFeatures: inFeatures, outFeatures: rank, bias: false, rng: &rng)
        b = try Linear(inFeatures: rank, outFeatures: outFeatures, bias: false, rng: &rng)
        b.weight.mutableBuffer.update(repeating: 0)
        (self.rank, self.scale) = (rank, alpha / Float(rank))
    }

    /// scale · B A x for x [..., in].
    func update(_ x: Tensor) throws -> Tensor { try b(a(x)) * scale }

    /// The dense update scale · B A, [out, in].
    public func delta() throws -> Tensor { try matmul(b.weight, a.weight) * scale }
}

extension Linear {
    /// Attaches a LoRA adapter of `rank` (replacing any earlier one); the caller freezes `weight` and `bias`.
    public func attachAdapter(rank: Int, alpha: Float, rng: inout RNG) throws {
        adapter = try LowRankAdapter(
            inFeatures: inFeatures, outFeatures: outFeatures, rank: rank, alpha: alpha, rng: &rng)
    }

    /// `weight` with the adapter's update added (the layer a merged export writes), or `weight` itself.
    public func mergedWeight() throws -> Tensor {
        guard let adapter else { return weight }
        return try (weight + adapter.delta()).detached()
    }
}
