import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieMultimodal
import ReverieNN
import ReverieVision

/// The decoder stage: a UNet on the (frozen) VAE's latents, conditioned on the (frozen) vision encoder's pooled
/// features of the same image — the space the LLM later learns to write. Condition dropout trains the null
/// condition for classifier-free guidance. Evaluation: encode → decode reconstruction accuracy.
final class DecoderStage: TrainingStage {
    let kind = StageKind.decoder
    let vision: VisionEncoder
    let decoder: LatentDiffusionDecoder
    let model: Module
    let parts: ModelParts
    let world: ShapesWorld
    let side: Int
    let dropout: Float
    var sampleSteps: Int
    var guidance: Float

    init(parts: ModelParts, recipe: Recipe?, rng: inout RNG) throws {
        guard let v = parts.vision else { throw StageError.missingPart(.vision) }
        guard let a = parts.vae else { throw StageError.missingPart(.vae) }
        guard let u = parts.unet else { throw StageError.missingPart(.unet) }
        self.parts = parts
        vision = try PartBuilding.vision(v, rng: &rng)
        let vae = try PartBuilding.vae(a, rng: &rng)
        let unet = try PartBuilding.unet(u, latentChannels: a.latentChannels, conditionDim: v.hidden, rng: &rng)
        decoder = try PartBuilding.decoder(vae: vae, unet: unet, u, conditionDim: v.hidden)
        side = Int(Double(u.conditionTokens).squareRoot().rounded())
        guard v.grid % side == 0 else {
            throw RecipeError(file: recipe?.file ?? "model_config", line: nil, key: "model.unet.condition_tokens",
                              message: "√\(u.conditionTokens) = \(side) does not divide the vision patch grid \(v.grid)")
        }
        model = PartsContainer([("vision_encoder", vision), ("decoder", decoder)])
        world = ShapesWorld(seed: recipe?.data.worldSeed ?? 1, canvas: recipe?.data.canvas ?? 64)
        dropout = Float(recipe?.loss.conditionDropout ?? 0.1)
        sampleSteps = recipe?.loop.sampleSteps ?? 20
        guidance = Float(recipe?.loop.guidance ?? 2)
    }

    func conditions(_ pixels: Tensor) throws -> Tensor {
        try MultimodalModel.pooledConditions(encoder: vision, images: pixels, side: side)
    }

    func loss(indices: Range<Int>, rng: inout RNG) throws -> StageLoss {
        let pixels = try ShapesBatch.scenes(world, indices)
        let latents = try withNoGrad { try decoder.vae.encodeLatents(pixels * 2 - 1) }
        let c = try conditions(pixels)
        let l = try denoisingLoss(unet: decoder.unet, objective: .ddpm(decoder.schedule, decoder.prediction),
                                  latents: latents, conditions: c,
                                  conditionDropout: (decoder.nullCondition, dropout),
                                  spatialConditions: decoder.spatialConditions, rng: &rng)
        return StageLoss(total: l, terms: [("denoise", try l.item())])
    }

    /// Images → their conditions → the decoder's drawing of them.
    func reconstruct(_ images: [PlanarImage], seed: UInt64) throws -> [PlanarImage] {
        let pixels = try ShapesBatch.pixels(images)
        let out = try decoder.decode(conditions: conditions(pixels), imageSize: (pixels.shape[2], pixels.shape[3]),
                                     steps: sampleSteps, guidance: guidance, seed: seed)
        return try ShapesBatch.images(fromSigned: out)
    }

    func evaluate(count: Int, seed: UInt64, sheet: URL?) throws -> [(String, Double)] {
        try ShapesBatch.reconstructionScores(canvas: world.rasterizer.canvas, seed: seed, count: count, batch: 8,
                                             sheet: sheet) { images, start in try reconstruct(images, seed: seed &+ UInt64(start)) }
    }
}
