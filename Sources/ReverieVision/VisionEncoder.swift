// port of transformers/models/siglip/modeling_siglip.py (SiglipVisionModel)
import ReverieCore
import ReverieNN

/// What a forward pass of `VisionEncoder` returns.
public struct VisionEncoderOutput {
    /// Patch features after `post_layernorm`, [B, P, D] (HF `last_hidden_state`).
    public var lastHiddenState: Tensor
    /// The attention-pooling head's output [B, D] (HF `pooler_output`), nil without a head.
    public var pooled: Tensor?
    /// The embeddings and the output of every layer (before `post_layernorm`), `numHiddenLayers + 1` tensors
    /// [B, P, D], as HF `output_hidden_states=True`; `hiddenStates[n - 1]` is the penultimate layer LLaVA reads.
    public var hiddenStates: [Tensor]
}

/// A SigLIP-style vision transformer, equal to Hugging Face `SiglipVisionModel`: conv patch embedding, learned
/// position embeddings, pre-LN blocks with GELU-tanh MLPs, post LayerNorm, optional multihead-attention pooling head.
///
/// Keys as transformers 5 saves a `SiglipVisionModel`: `embeddings.patch_embedding.weight`,
/// `encoder.layers.N.self_attn.q_proj.weight`, …, `post_layernorm.weight`, `head.probe`, … (checkpoints of the full
/// `SiglipModel` prefix them with `vision_model.`, which `load(huggingFaceDirectory:)` strips).
public final class VisionEncoder: Module {
    public let config: VisionEncoderConfig
    public let embeddings: SiglipVisionEmbeddings
    public let layers: [SiglipEncoderLayer]
    public let postLayernorm: LayerNorm
    public let head: AttentionPoolingHead?

    public init(config: VisionEncoderConfig, rng: inout RNG) throws {
        try config.validate()
        self.config = config
        embeddings = try SiglipVisionEmbeddings(config: config, rng: &rng)
        var layers: [SiglipEncoderLayer] = []
        for _ in 0..<config.numHiddenLayers { layers.append(try SiglipEncoderLayer(config: config, rng: &rng)) }
        self.layers = layers
        postLayernorm = try LayerNorm(dim: config.hiddenSize, eps: config.layerNormEps)
        head = config.useHead ? try AttentionPoolingHead(config: config, rng: &rng) : nil
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("embeddings", embeddings)
        v.children("encoder.layers", layers)
        v.child("post_layernorm", postLayernorm)
        v.child("head", head)
    }

    /// pixels [B, C, H, W] → patch features [B, P, D], pooled [B, D] and every layer's output.
    ///
    /// - upToLayer: run only the first `upToLayer` blocks (`numHiddenLayers - 1` gives LLaVA's penultimate
    ///   features in `hiddenStates.last` at less cost); `lastHiddenState` and `pooled` are then those of the
    ///   truncated stack.
    public func callAsFunction(_ pixels: Tensor, upToLayer: Int? = nil) throws -> VisionEncoderOutput {
        let depth = upToLayer ?? layers.count
        guard (0...layers.count).contains(depth) else {
            throw TensorError.invalidArgument(
                op: "VisionEncoder", detail: "upToLayer \(depth) not in 0...\(layers.count)")
        }
        var h = try embeddings(pixels)  // [B, P, D]
        var states = [h]
        for layer in layers.prefix(depth) {
            h = try layer(h)  // [B, P, D]
            states.append(h)
        }
        let last = try postLayernorm(h)  // [B, P, D]
        return VisionEncoderOutput(lastHiddenState: last, pooled: try head?(last), hiddenStates: states)
    }
}
