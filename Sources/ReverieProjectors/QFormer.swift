// port of transformers/models/blip_2/modeling_blip_2.py (Blip2QFormerModel and its layers, query path)
import ReverieCore
import ReverieNN

/// BERT-style attention with a post-LayerNorm residual: `LayerNorm(dense(attn(x, source)) + x)`.
/// Keys: `attention.{query,key,value}.*`, `output.dense.*`, `output.LayerNorm.*`.
public final class QFormerAttention: Module {
    public let heads: Int
    public let query: Linear, key: Linear, value: Linear
    public let dense: Linear
    public let layerNorm: LayerNorm

    init(config: QFormerConfig, sourceDim: Int, rng: inout RNG) throws {
        let d = config.hiddenSize
        heads = config.numAttentionHeads
        query = try Linear(inFeatures: d, outFeatures: d, rng: &rng)
        key = try Linear(inFeatures: sourceDim, outFeatures: d, rng: &rng)
        value = try Linear(inFeatures: sourceDim, outFeatures: d, rng: &rng)
        dense = try Linear(inFeatures: d, outFeatures: d, rng: &rng)
        layerNorm = try LayerNorm(dim: d, eps: config.layerNormEps)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("attention.query", query)
        v.child("attention.key", key)
        v.child("attention.value", value)
        v.child("output.dense", dense)
        v.child("output.LayerNorm", layerNorm)
    }

    /// x [B, Q, D], source [B, S, Ds] (x itself for self-attention) → [B, Q, D]
    func callAsFunction(_ x: Tensor, source: Tensor) throws -> Tensor {
        let (b, q, s, d) = (x.shape[0], x.shape[1], source.shape[1], x.shape[2])
        func split(_ t: Tensor, _ n: Int) throws -> Tensor {
            try t.reshape([b, n, heads, d / heads]).permute([0, 2, 1, 3])  // [B, H, n, Dh]
        }
        let o = try scaledDotProductAttention(split(query(x), q), split(key(source), s), split(value(source), s))
        return try layerNorm(dense(o.permute([0, 2, 1, 3]).reshape([b, q, d])) + x)  // [B, Q, D]
    }
}

/// One Q-Former layer (query path): self-attention, cross-attention to the image on every
/// `crossAttentionFrequency`-th layer, feed-forward (`intermediate_query`, `output_query`), each post-LN.
public final class QFormerLayer: Module {
    public let attention: QFormerAttention
    public let crossattention: QFormerAttention?
    public let intermediate: Linear
    public let output: Linear
    public let outputNorm: LayerNorm
    let activation: Activation

    init(config: QFormerConfig, index: Int, rng: inout RNG) throws {
        attention = try QFormerAttention(config: config, sourceDim: config.hiddenSize, rng: &rng)
        crossattention =
            index % config.crossAttentionFrequency == 0
            ? try QFormerAttention(config: config, sourceDim: config.encoderHiddenSize, rng: &rng) : nil
        intermediate = try Linear(inFeatures: config.hiddenSize, outFeatures: config.intermediateSize, rng: &rng)
        output = try Linear(inFeatures: config.intermediateSize, outFeatures: config.hiddenSize, rng: &rng)
        outputNorm = try LayerNorm(dim: config.hiddenSize, eps: config.layerNormEps)
        activation = config.hiddenAct
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("attention", attention)
        v.child("crossattention", crossattention)
        v.child("intermediate_query.dense", intermediate)
        v.child("output_query.dense", output)
        v.child("output_query.LayerNorm", outputNorm)
    }

    /// x [B, Q, D], image [B, P, Dv] → [B, Q, D]
    func callAsFunction(_ x: Tensor, image: Tensor) throws -> Tensor {
        var h = try attention(x, source: x)
        if let crossattention { h = try crossattention(h, source: image) }
        return try outputNorm(output(activation(intermediate(h))) + h)
    }
}

/// The BLIP-2 Q-Former (HF `Blip2QFormerModel`, query path): LayerNorm on the query embeddings, then the layers.
/// Keys: `layernorm.*`, `encoder.layer.N.…` exactly as transformers.
public final class QFormer: Module {
    public let config: QFormerConfig
    public let layernorm: LayerNorm
    public let layers: [QFormerLayer]

    public init(config: QFormerConfig, rng: inout RNG) throws {
        try config.validate()
        self.config = config
        layernorm = try LayerNorm(dim: config.hiddenSize, eps: config.layerNormEps)
        layers = try (0..<config.numHiddenLayers).map { try QFormerLayer(config: config, index: $0, rng: &rng) }
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("layernorm", layernorm)
        v.children("encoder.layer", layers)
    }

    /// queries [B, Q, D], image features [B, P, Dv] → last hidden state [B, Q, D]
    public func callAsFunction(queries: Tensor, image: Tensor) throws -> Tensor {
        guard queries.rank == 3, queries.shape[2] == config.hiddenSize, image.rank == 3,
            image.shape[0] == queries.shape[0], image.shape[2] == config.encoderHiddenSize
        else {
            throw TensorError.shapeMismatch(
                op: "QFormer",
                detail: "queries \(shapeString(queries.shape)) [B, Q, \(config.hiddenSize)], image "
                    + "\(shapeString(image.shape)) [B, P, \(config.encoderHiddenSize)]")
        }
        var h = try layernorm(queries)
        for layer in layers { h = try layer(h, image: image) }
        return h
    }
}
