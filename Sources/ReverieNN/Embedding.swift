import ReverieCore

/// A lookup table of `count` vectors of size `dim` (`torch.nn.Embedding`). Key: `weight` [count, dim].
public final class Embedding: Module {
    public let count: Int
    public let dim: Int
    /// [count, dim]
    public let weight: Tensor

    /// Weights Normal(0, `std`); PyTorch's default is std 1, Hugging Face models re-initialise with their
    /// `initializer_range` (typically 0.02).
    public init(count: Int, dim: Int, std: Float = 1, rng: inout RNG) throws {
        try requirePositive("Embedding", ["count": count, "dim": dim])
        self.count = count
        self.dim = dim
        weight = Init.parameter([count, dim])
        Init.normal(weight, std: std, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("weight", weight)
    }

    /// ids (laid out as `shape`, default `[ids.count]`) → [shape..., dim]. Throws on an id outside 0..<count.
    public func callAsFunction(_ ids: [Int], shape: [Int]? = nil) throws -> Tensor {
        try embedding(weight, ids: ids, idsShape: shape)
    }
}
