// port of transformers/models/siglip/modeling_siglip.py (SiglipTextEmbeddings, SiglipTextTransformer)
import ReverieCore
import ReverieNN

/// A SigLIP-style text transformer: token and learned position embeddings, pre-LN encoder blocks with a key
/// padding mask, a final LayerNorm, the hidden state of each sequence's last real token, and a Linear `head` into
/// the shared image-text space.
///
/// Keys as transformers names a `SiglipTextModel`'s `text_model`: `embeddings.token_embedding.weight` [V, D],
/// `embeddings.position_embedding.weight` [maxPositions, D], `encoder.layers.N.self_attn.q_proj.weight`, …,
/// `final_layer_norm.{weight,bias}`, `head.{weight,bias}` [projectionDim, D].
public final class TextTower: Module {
    public let config: TextTowerConfig
    public let tokenEmbedding: Embedding
    public let positionEmbedding: Embedding
    public let layers: [SiglipEncoderLayer]
    public let finalLayerNorm: LayerNorm
    public let head: Linear

    public init(config: TextTowerConfig, rng: inout RNG) throws {
        try config.validate()
        self.config = config
        tokenEmbedding = try Embedding(count: config.vocabSize, dim: config.hiddenSize, std: 0.02, rng: &rng)
        positionEmbedding = try Embedding(count: config.maxPositions, dim: config.hiddenSize, std: 0.02, rng: &rng)
        var layers: [SiglipEncoderLayer] = []
        for _ in 0..<config.numHiddenLayers {
            layers.append(
                try SiglipEncoderLayer(
                    hiddenSize: config.hiddenSize, intermediateSize: config.intermediateSize,
                    numAttentionHeads: config.numAttentionHeads, layerNormEps: config.layerNormEps,
                    hiddenAct: config.hiddenAct, rng: &rng))
        }
        self.layers = layers
        finalLayerNorm = try LayerNorm(dim: config.hiddenSize, eps: config.layerNormEps)
        head = try Linear(inFeatures: config.hiddenSize, outFeatures: config.projectionDim, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("embeddings.token_embedding", tokenEmbedding)
        v.child("embeddings.position_embedding", positionEmbedding)
        v.children("encoder.layers", layers)
        v.child("final_layer_norm", finalLayerNorm)
        v.child("head", head)
    }

    /// tokens: B sequences of ids (any lengths) → text embeddings [B, projectionDim] (not normalised).
    ///
    /// Trailing `padToken`s of a sequence count as padding. Sequences are padded with `padToken` to the longest in
    /// the batch; padded positions are masked out of attention, so they change nothing, and each sequence is
    /// pooled at its last real token. Throws on an empty batch, a sequence with no real token (naming its batch
    /// index), one longer than `maxPositions`, or an id outside the vocabulary.
    public func callAsFunction(tokens: [[Int]], padToken: Int) throws -> Tensor {
        let op = "TextTower"
        guard !tokens.isEmpty else {
            throw TensorError.invalidArgument(op: op, detail: "empty batch of token sequences")
        }
        var lengths: [Int] = []
        for (b, sequence) in tokens.enumerated() {
            let length = (sequence.lastIndex { $0 != padToken } ?? -1) + 1
            guard length > 0 else {
                throw TensorError.invalidArgument(
                    op: op, detail: "token sequence \(b) is empty (or all padding token \(padToken))")
            }
            guard length <= config.maxPositions else {
                throw TensorError.invalidArgument(
                    op: op,
                    detail: "token sequence \(b) has \(length) tokens, more than maxPositions \(config.maxPositions)")
            }
            lengths.append(length)
        }
        let (b, t, d) = (tokens.count, lengths.max() ?? 1, config.hiddenSize)
        var ids: [Int] = [], mask: [Float] = []
        for (sequence, length) in zip(tokens, lengths) {
            ids += sequence.prefix(length) + Array(repeating: padToken, count: t - length)
            mask += Array(repeating: 1, count: length) + Array(repeating: 0, count: t - length)
        }
        if let bad = ids.enumerated().first(where: { $0.element < 0 || $0.element >= config.vocabSize }) {
            throw TensorError.invalidArgument(
                op: op, detail: "token id \(bad.element) of sequence \(bad.offset / t) outside 0..<\(config.vocabSize)")
        }
        let keyPaddingMask = try Tensor(shape: [b, t], data: mask)
        let positions = try positionEmbedding.weight.slice(axis: 0, start: 0, end: t)  // [T, D]
        var h = try tokenEmbedding(ids, shape: [b, t]) + positions  // [B, T, D]
        for layer in layers { h = try layer(h, keyPaddingMask: keyPaddingMask) }  // [B, T, D]
        h = try finalLayerNorm(h)  // [B, T, D]
        let last = lengths.enumerated().map { $0.offset * t + $0.element - 1 }
        let pooled = try h.reshape([b * t, d]).indexSelect(axis: 0, last)  // [B, D]
        return try head(pooled)  // [B, projectionDim]
    }
}
