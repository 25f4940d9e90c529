import ReverieCore

/// The gated feed-forward block of Llama (`LlamaMLP`): `down_proj(silu(gate_proj(x)) ⊙ up_proj(x))`.
/// Keys: `gate_proj.weight` [hidden, dim], `up_proj.weight` [hidden, dim], `down_proj.weight` [dim, hidden].
public final class SwiGLU: Module {
    public let gateProj: Linear
    public let upProj: Linear
    public let downProj: Linear
    /// The gate's activation: SiLU for Llama (`hidden_act`), GELU-tanh for GeGLU variants.
    public let activation: Activation

    public init(dim: Int, hidden: Int, bias: Bool = false, activation: Activation = .silu, rng: inout RNG) throws {
        gateProj = try Linear(inFeatures: dim, outFeatures: hidden, bias: bias, rng: &rng)
        upProj = try Linear(inFeatures: dim, outFeatures: hidden, bias: bias, rng: &rng)
        downProj = try Linear(inFeatures: hidden, outFeatures: dim, bias: bias, rng: &rng)
        self.activation = activation
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("gate_proj", gateProj)
        v.child("up_proj", upProj)
        v.child("down_proj", downProj)
    }

    /// x [..., dim] → [..., dim]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let gate = try gateProj(x), up = try upProj(x)
        // SiLU (Llama's) fused with the product; other activations (GeGLU variants) unfused.
        return try downProj(activation == .silu ? gatedSiLU(gate: gate, up: up) : activation(gate) * up)
    }
}
