// port of transformers/models/siglip/modeling_siglip.py (SiglipModel), with mean-pooled image features
import Foundation
import ReverieCore
import ReverieNN

/// The image and text towers of SigLIP pre-training with their learnable temperature and bias.
///
/// The image embedding is the vision encoder's patch features (`lastHiddenState`) mean-pooled over patches, then
/// `image_projection` into the shared space, so encoders built with `useHead: false` work too. Keys: `vision.*`,
/// `text.*`, `image_projection.{weight,bias}` [projectionDim, Dv], `logit_scale` [1], `logit_bias` [1].
public final class SiglipContrastiveModel: Module {
    public let vision: VisionEncoder
    public let text: TextTower
    public let imageProjection: Linear
    /// log of the logit temperature, initialised to log 10.
    public let logitScale: Tensor
    /// Added to every logit, initialised to −10.
    public let logitBias: Tensor

    public init(vision: VisionEncoderConfig, text: TextTowerConfig, rng: inout RNG) throws {
        self.vision = try VisionEncoder(config: vision, rng: &rng)
        self.text = try TextTower(config: text, rng: &rng)
        imageProjection = try Linear(inFeatures: vision.hiddenSize, outFeatures: text.projectionDim, rng: &rng)
        logitScale = Tensor(repeating: Float(Foundation.log(10.0)), shape: [1], requiresGrad: true)
        logitBias = Tensor(repeating: -10, shape: [1], requiresGrad: true)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("vision", vision)
        v.child("text", text)
        v.child("image_projection", imageProjection)
        v.parameter("logit_scale", logitScale)
        v.parameter("logit_bias", logitBias)
    }

    /// pixels [B, C, H, W] in [0, 1] → the encoder's patch features [B, P, Dv] (it takes [-1, 1]).
    public func features(_ pixels: Tensor) throws -> Tensor {
        try vision(pixels * 2 - 1).lastHiddenState
    }

    /// pixels [B, C, H, W] in [0, 1] → image embeddings [B, projectionDim] (not normalised).
    public func imageEmbeddings(_ pixels: Tensor) throws -> Tensor {
        try imageEmbeddings(features: features(pixels))
    }

    /// The encoder's patch features [B, P, Dv] → image embeddings [B, projectionDim]: their mean, projected.
    public func imageEmbeddings(features: Tensor) throws -> Tensor {
        try imageProjection(features.mean(axis: 1))
    }

    /// B token sequences → text embeddings [B, projectionDim] (not normalised); see `TextTower`.
    /// The first tokens of a text, as many as the text tower reads: longer texts are truncated, as transformers'
    /// SigLIP processor does with `truncation=True`.
    public func truncated(_ tokens: [Int]) -> [Int] { Array(tokens.prefix(text.config.maxPositions)) }

    public func textEmbeddings(tokens: [[Int]], padToken: Int) throws -> Tensor {
        try text(tokens: tokens, padToken: padToken)
    }

    /// The sigmoid contrastive loss of B images (pixels [B, C, H, W] in [0, 1]) against their B captions.
    public func loss(pixels: Tensor, tokens: [[Int]], padToken: Int) throws -> Tensor {
        guard pixels.rank == 4, pixels.shape[0] == tokens.count else {
            throw TensorError.shapeMismatch(
                op: "SiglipContrastiveModel",
                detail: "pixels \(shapeString(pixels.shape)) for \(tokens.count) token sequences, "
                    + "expected [\(tokens.count), C, H, W]")
        }
        return try loss(image: imageEmbeddings(pixels), tokens: tokens, padToken: padToken)
    }

    /// The sigmoid contrastive loss of B image embeddings [B, projectionDim] against their B captions.
    public func loss(image: Tensor, tokens: [[Int]], padToken: Int) throws -> Tensor {
        let text = try textEmbeddings(tokens: tokens, padToken: padToken)
        return try sigmoidContrastiveLoss(image: image, text: text, logitScale: logitScale, logitBias: logitBias)
    }
}
