import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieMultimodal
import ReverieNN
import ReverieRuntime
import ReverieVision

/// The decoder stage: a UNet on the (frozen) VAE's latents, conditioned on the (frozen) vision encoder's pooled
/// features of the same image — the space the LLM later learns to write. Condition dropout trains the null
/// condition for classifier-free guidance. Evaluation: encode → decode reconstruction accuracy.
final class DecoderStage: StageDefinition {
    static let kind = StageKind.decoder
    static let requiredParts: [PartName] = [.vision, .vae, .unet]
    static func dataUses(_ recipe: Recipe) -> [DataUse] { recipe.data.editPairs > 0 ? [.image, .editPair] : [.image] }
    static let dataKeys: Set = ["edit_pairs", "augment"]
    /// The encoder and decoder, as inference runs them (the stage evaluates through it).
    let runner: DecoderRunner
    var vision: VisionEncoder { runner.vision }
    var decoder: LatentDiffusionDecoder { runner.decoder }
    var model: Module { runner.model }
    let parts: ModelParts
    /// The training stream and its augmentation.
    let data: any TrainingData
    let augment: Augmentation
    /// `data.eval_manifest`, scored instead of ShapesWorld.
    let evalManifest: EvalManifest?
    let dropout: Float
    /// `loss.object_weight`: α of the latent pixels' weights 1 + α·dₚ/mean d (0 = plain mean).
    let objectWeight: Float
    /// `loss.condition_noise`: σ of the Gaussian noise added to each item's conditions in training, drawn per
    /// item uniformly in [0, σ] and relative to the batch's condition RMS (0 = none).
    let conditionNoise: Float
    /// `loss.timestep_power`: the skew of the training timesteps towards the noisy end (1 = uniform).
    let timestepPower: Double
    /// `data.edit_pairs`: the share of each batch drawn as edit pairs (needs `unet.source_latent`).
    let editPairs: Double

    init(parts: ModelParts, recipe: Recipe?, rng: inout RNG) throws {
        self.parts = parts
        runner = try DecoderRunner(parts: parts, drawing: recipe?.eval.drawing ?? DrawingOptions(), rng: &rng)
        let spec = recipe?.data ?? DataSpec(), loss = recipe?.loss(Loss.self) ?? Loss()
        (data, augment) = (try spec.training(), spec.augment)
        evalManifest = try spec.evalManifest.map { try EvalManifest(path: $0, canvas: spec.canvas) }
        dropout = Float(loss.conditionDropout)
        objectWeight = Float(loss.objectWeight)
        conditionNoise = Float(loss.conditionNoise)
        timestepPower = loss.timestepPower
        editPairs = spec.editPairs
        if editPairs > 0, !decoder.sourceLatents {
            throw RecipeError(
                file: recipe?.file ?? "model_config", line: nil, key: "data.edit_pairs",
                message: "edit pairs need a UNet that takes the source latent (unet.source_latent: true)")
        }
    }

    static func check(_ recipe: Recipe, loss: Loss) throws {
        if recipe.data.editPairs > 0, recipe.sources[.unet] == .build, recipe.parts.unet?.sourceLatent != true {
            throw recipe.error(
                "data.edit_pairs",
                "edit pairs need a UNet that takes the source latent (model.unet.source_latent: true)")
        }
    }

    func conditions(_ pixels: Tensor) throws -> Tensor { try runner.conditions(pixels) }

    /// How many of `count` items are edit pairs (the first ones; the rest are single images).
    func editCount(_ count: Int) -> Int { Int((Double(count) * editPairs).rounded()) }

    func prefetch(indices: [Int]) {
        let edits = editCount(indices.count)
        let pairs = indices.prefix(edits).compactMap { try? data.editPair(at: $0) }.flatMap { [$0.source, $0.target] }
        data.prefetch(pairs + indices.dropFirst(edits).compactMap { try? data.image(at: $0) })
    }

    func loss(indices: [Int], rng: inout RNG) throws -> StageLoss {
        // The first `edits` items are edit pairs (the target drawn, the source's latent given), the rest single
        // scenes (a zero source when the UNet takes one).
        let edits = editCount(indices.count)
        let pairs = try indices.prefix(edits).map { try data.editPair(at: $0) }
        let pixels = try augment.apply(
            StageImages.pixels(
                pairs.map(\.target) + indices.dropFirst(edits).map { try data.image(at: $0) }, data.images),
            indices: indices)
        let latents = try decoder.latents(images: pixels)
        var sources: Tensor?
        if decoder.sourceLatents {
            let (c, h, w) = (latents.shape[1], latents.shape[2], latents.shape[3])
            var parts: [Tensor] = []
            if !pairs.isEmpty {
                let sources = try StageImages.pixels(pairs.map(\.source), data.images)
                // the source cropped and flipped as its target is
                parts.append(try decoder.latents(images: augment.apply(sources, indices: Array(indices.prefix(edits)))))
            }
            if indices.count > edits { parts.append(Tensor(zeros: [indices.count - edits, c, h, w])) }
            sources = parts.count == 1 ? parts[0] : try concat(parts, axis: 0)
        }
        let c = try noised(conditions(pixels), rng: &rng)
        let l = try denoisingLoss(
            unet: decoder.unet, objective: .ddpm(decoder.schedule, decoder.prediction),
            latents: latents, conditions: c, sourceLatents: sources,
            conditionDropout: (decoder.nullCondition, dropout),
            spatialConditions: decoder.spatialConditions,
            pixelWeights: objectWeight > 0 ? latentObjectWeights(latents) : nil,
            timestepPower: timestepPower, rng: &rng)
        return StageLoss(total: l, terms: [("denoise", try l.item())])
    }

    /// Noise augmentation of the conditions (`conditionNoise`): the decoder learns to draw from conditions that are
    /// a little off, as the LLM's predictions are, instead of only from the encoder's exact features.
    func noised(_ c: Tensor, rng: inout RNG) throws -> Tensor {
        guard conditionNoise > 0 else { return c }
        let b = c.shape[0], per = c.count / b
        let values = c.toArray()
        let rms = (values.reduce(0) { $0 + $1 * $1 } / Float(max(values.count, 1))).squareRoot()
        let levels = (0..<b).flatMap { _ in repeatElement(rng.uniform() * conditionNoise * rms, count: per) }
        return try c + Tensor.randn(c.shape, rng: &rng) * Tensor(shape: c.shape, data: levels)
    }

    /// Weights [B, 1, h, w] of the latent pixels: `objectWeights` over the h·w latent vectors of each image, so a
    /// pixel weighs more the further it lies from the image's background (its per-channel median).
    func latentObjectWeights(_ latents: Tensor) throws -> Tensor {
        let (b, c, h, w) = (latents.shape[0], latents.shape[1], latents.shape[2], latents.shape[3])
        let vectors = try latents.reshape([b, c, h * w]).permute([0, 2, 1])  // [B, hw, C]
        return try objectWeights(vectors, alpha: objectWeight).reshape([b, 1, h, w])
    }

    func evaluate(count: Int, seed: UInt64, sheet: URL?, share: ItemShare) throws -> [(String, Double)] {
        guard let evalManifest else {
            return try runner.evaluate(count: count, seed: seed, sheet: sheet, share: share)
        }
        return try evalManifest.reconstructionScores(count: count, batch: 8, sheet: sheet, share: share) {
            images, start in
            try runner.reconstruct(images, seed: seed &+ UInt64(start))
        }
    }
}
