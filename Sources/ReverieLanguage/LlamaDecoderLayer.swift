// port of transformers/models/llama/modeling_llama.py (LlamaDecoderLayer)
import ReverieCore
import ReverieNN

/// One pre-norm Llama block: `h = x + self_attn(input_layernorm(x))`, `out = h + mlp(post_attention_layernorm(h))`.
///
/// Keys: `input_layernorm.weight`, `self_attn.{q,k,v,o}_proj.weight`, `post_attention_layernorm.weight`,
/// `mlp.{gate,up,down}_proj.weight` (plus biases when the config enables them).
public final class LlamaDecoderLayer: Module {
    public let inputLayernorm: RMSNorm
    public let selfAttn: MultiHeadAttention
    public let postAttentionLayernorm: RMSNorm
    public let mlp: SwiGLU

    public init(config: LlamaConfig, rope: RotaryEmbedding, rng: inout RNG) throws {
        inputLayernorm = try RMSNorm(dim: config.hiddenSize, eps: config.rmsNormEps)
        selfAttn = try MultiHeadAttention(
            dim: config.hiddenSize, heads: config.numAttentionHeads, kvHeads: config.numKeyValueHeads,
            headDim: config.headDim, bias: config.attentionBias, causal: true, rope: rope, names: .llama, rng: &rng)
        postAttentionLayernorm = try RMSNorm(dim: config.hiddenSize, eps: config.rmsNormEps)
        mlp = try SwiGLU(dim: config.hiddenSize, hidden: config.intermediateSize, bias: config.mlpBias, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("self_attn", selfAttn)
        v.child("mlp", mlp)
        v.child("input_layernorm", inputLayernorm)
        v.child("post_attention_layernorm", postAttentionLayernorm)
    }

    /// x [B, T, D] → [B, T, D]. `keyPaddingMask` [B, cached + T] (non-zero for real tokens), `positions` the T
    /// rotary positions (default: continuing the cache), `cache` this layer's keys/values of earlier steps.
    public func callAsFunction(
        _ x: Tensor, keyPaddingMask: Tensor? = nil, positions: [Int]? = nil,
        cache: KeyValueCache? = nil
    ) throws -> Tensor {
        let h =
            try x
            + selfAttn(
                inputLayernorm(x), keyPaddingMask: keyPaddingMask, positions: positions,
                cache: cache)  // [B, T, D]
        return try h + mlp(postAttentionLayernorm(h))  // [B, T, D]
    }
}
