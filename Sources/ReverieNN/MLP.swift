import ReverieCore

/// The transformer feed-forward block `fc2(act(fc1(x)))` (ViT, CLIP, SigLIP). Keys: `fc1.*`, `fc2.*`.
public final class MLP: Module {
    public let fc1: Linear
    public let fc2: Linear
    public let activation: Activation

    /// `dim → hidden → outDim` (outDim defaults to dim).
    public init(
        dim: Int, hidden: Int, outDim: Int? = nil, activation: Activation = .gelu, bias: Bool = true,
        rng: inout RNG
    ) throws {
        fc1 = try Linear(inFeatures: dim, outFeatures: hidden, bias: bias, rng: &rng)
        fc2 = try Linear(inFeatures: hidden, outFeatures: outDim ?? dim, bias: bias, rng: &rng)
        self.activation = activation
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("fc1", fc1)
        v.child("fc2", fc2)
    }

    /// x [..., dim] → [..., outDim]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try fc2(activation(fc1(x)))
    }
}
