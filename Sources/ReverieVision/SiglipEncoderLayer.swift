// port of transformers/models/siglip/modeling_siglip.py (SiglipVisionEmbeddings, SiglipEncoderLayer)
import ReverieCore
import ReverieNN

/// Patch embedding (a stride-`patch` convolution) plus learned position embeddings.
/// Keys: `patch_embedding.weight` [D, C, p, p], `patch_embedding.bias` [D], `position_embedding.weight` [P, D].
public final class SiglipVisionEmbeddings: Module {
    public let patchEmbedding: Conv2d
    public let positionEmbedding: Embedding
    public let config: VisionEncoderConfig

    public init(config: VisionEncoderConfig, rng: inout RNG) throws {
        self.config = config
        patchEmbedding = try Conv2d(
            inChannels: config.numChannels, outChannels: config.hiddenSize,
            kernelSize: config.patchSize, stride: config.patchSize, rng: &rng)
        positionEmbedding = try Embedding(count: config.numPatches, dim: config.hiddenSize, std: 0.02, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("patch_embedding", patchEmbedding)
        v.child("position_embedding", positionEmbedding)
    }

    /// pixels [B, C, H, W] (H = W = imageSize) → [B, P, D], patches in row-major order.
    public func callAsFunction(_ pixels: Tensor) throws -> Tensor {
        let c = config
        guard pixels.rank == 4, pixels.shape[1] == c.numChannels, pixels.shape[2] == c.imageSize,
            pixels.shape[3] == c.imageSize
        else {
            throw TensorError.shapeMismatch(
                op: "VisionEncoder",
                detail: "pixels \(shapeString(pixels.shape)), expected "
                    + "[B, \(c.numChannels), \(c.imageSize), \(c.imageSize)]")
        }
        let b = pixels.shape[0]
        let patches = try patchEmbedding(pixels)  // [B, D, g, g]
            .reshape([b, c.hiddenSize, c.numPatches]).permute([0, 2, 1])  // [B, P, D]
        return try patches + positionEmbedding.weight  // [B, P, D] + [P, D]
    }
}

/// A pre-LayerNorm transformer block: `h = x + self_attn(layer_norm1(x))`, `out = h + mlp(layer_norm2(h))`.
/// Keys: `layer_norm1.*`, `self_attn.{q,k,v,out}_proj.*`, `layer_norm2.*`, `mlp.fc1.*`, `mlp.fc2.*`.
public final class SiglipEncoderLayer: Module {
    public let layerNorm1: LayerNorm
    public let selfAttn: MultiHeadAttention
    public let layerNorm2: LayerNorm
    public let mlp: MLP

    public convenience init(config: VisionEncoderConfig, rng: inout RNG) throws {
        try self.init(
            hiddenSize: config.hiddenSize, intermediateSize: config.intermediateSize,
            numAttentionHeads: config.numAttentionHeads, layerNormEps: config.layerNormEps,
            hiddenAct: config.hiddenAct, rng: &rng)
    }

    /// The sizes spelled out, so the text tower (`TextTower`) builds the same block from its own configuration.
    public init(
        hiddenSize: Int, intermediateSize: Int, numAttentionHeads: Int, layerNormEps: Float,
        hiddenAct: Activation, rng: inout RNG
    ) throws {
        layerNorm1 = try LayerNorm(dim: hiddenSize, eps: layerNormEps)
        selfAttn = try MultiHeadAttention(
            dim: hiddenSize, heads: numAttentionHeads, bias: true,
            names: .clip, rng: &rng)
        layerNorm2 = try LayerNorm(dim: hiddenSize, eps: layerNormEps)
        mlp = try MLP(dim: hiddenSize, hidden: intermediateSize, activation: hiddenAct, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("layer_norm1", layerNorm1)
        v.child("self_attn", selfAttn)
        v.child("layer_norm2", layerNorm2)
        v.child("mlp", mlp)
    }

    /// x [B, P, D] → [B, P, D]
    ///
    /// - keyPaddingMask: [B, P], non-zero for real positions; padded keys are ignored by every query (text).
    public func callAsFunction(_ x: Tensor, keyPaddingMask: Tensor? = nil) throws -> Tensor {
        let h = try x + selfAttn(layerNorm1(x), keyPaddingMask: keyPaddingMask)
        return try h + mlp(layerNorm2(h))
    }
}
