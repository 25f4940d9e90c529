// port of diffusers `BasicTransformerBlock` (models/attention.py) with norm_type "layer_norm", and `FeedForward`
// with the GEGLU activation (models/activations.py)
import ReverieCore
import ReverieNN

/// GEGLU feed-forward: `proj` to 2·inner, split into (h, gate), h · GELU(gate), back to dim.
/// Keys: `net.0.proj`, `net.2` (net.1 is dropout, which has no parameters).
public final class GEGLUFeedForward: Module {
    public let proj: Linear
    public let out: Linear
    public let inner: Int

    public init(dim: Int, mult: Int = 4, rng: inout RNG) throws {
        inner = dim * mult
        proj = try Linear(inFeatures: dim, outFeatures: 2 * inner, rng: &rng)
        out = try Linear(inFeatures: inner, outFeatures: dim, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("net.0.proj", proj)
        v.child("net.2", out)
    }

    /// x [B, T, dim] → [B, T, dim]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try out(proj(x).gatedGELU())  // [B, T, 2·inner] → value ⊙ gelu(gate), [B, T, inner]
    }
}

/// Pre-norm transformer block: self-attention, cross-attention to the conditions, GEGLU feed-forward, each with
/// a residual. Keys: `norm1`, `attn1`, `norm2`, `attn2`, `norm3`, `ff`.
public final class BasicTransformerBlock: Module {
    public let norm1: LayerNorm, attn1: MultiHeadAttention
    public let norm2: LayerNorm, attn2: MultiHeadAttention
    public let norm3: LayerNorm, ff: GEGLUFeedForward

    public init(dim: Int, heads: Int, headDim: Int, crossAttentionDim: Int, rng: inout RNG) throws {
        norm1 = try LayerNorm(dim: dim, eps: 1e-5)
        attn1 = try MultiHeadAttention(
            dim: dim, heads: heads, headDim: headDim, bias: false, outputBias: true,
            names: .diffusers, rng: &rng)
        norm2 = try LayerNorm(dim: dim, eps: 1e-5)
        attn2 = try MultiHeadAttention(
            dim: dim, heads: heads, headDim: headDim, contextDim: crossAttentionDim,
            bias: false, outputBias: true, names: .diffusers, rng: &rng)
        norm3 = try LayerNorm(dim: dim, eps: 1e-5)
        ff = try GEGLUFeedForward(dim: dim, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("norm1", norm1)
        v.child("attn1", attn1)
        v.child("norm2", norm2)
        v.child("attn2", attn2)
        v.child("norm3", norm3)
        v.child("ff", ff)
    }

    /// x [B, T, dim], context [B, S, crossAttentionDim] → [B, T, dim]
    public func callAsFunction(_ x: Tensor, context: Tensor) throws -> Tensor {
        var h = try attn1(norm1(x)) + x
        h = try attn2(norm2(h), context: context) + h
        return try ff(norm3(h)) + h
    }
}
