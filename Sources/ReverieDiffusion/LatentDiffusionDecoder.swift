import ReverieCore
import ReverieNN

/// The frozen latent diffusion decoder of docs/DESIGN.md §1: conditions → UNet denoising loop with classifier-free
/// guidance → VAE decode → images.
///
/// Keys: `vae.…`, `unet.…`, `null_condition` (learned null only). In frozen mode (`freeze()`), nothing here updates,
/// but `denoise` and `decodeImages` stay differentiable in the conditions when called outside `withNoGrad`.
public final class LatentDiffusionDecoder: Module {
    public let vae: AutoencoderKL
    public let unet: UNet2DConditionModel
    public let nullCondition: NullCondition
    public let schedule: NoiseSchedule
    public let prediction: PredictionType
    /// Whether the UNet also takes the conditions as input channels (`spatialConditionMap`).
    public let spatialConditions: Bool
    /// Whether the UNet also takes a source image's latent as input channels (editing: what the instruction does
    /// not touch can be copied from it). Without a source, zeros stand in.
    public let sourceLatents: Bool

    public init(
        vae: AutoencoderKL, unet: UNet2DConditionModel, nullCondition: NullCondition,
        schedule: NoiseSchedule, prediction: PredictionType = .epsilon, spatialConditions: Bool = false,
        sourceLatents: Bool = false
    ) throws {
        guard nullCondition.dim == unet.config.conditionWidth else {
            throw DiffusionError.invalidConfiguration(
                component: "LatentDiffusionDecoder",
                detail: "null condition dim \(nullCondition.dim) vs the UNet's condition width "
                    + "\(unet.config.conditionWidth)")
        }
        (self.vae, self.unet, self.nullCondition) = (vae, unet, nullCondition)
        (self.schedule, self.prediction, self.spatialConditions) = (schedule, prediction, spatialConditions)
        self.sourceLatents = sourceLatents
    }

    /// The denoiser-space latents of images [B, 3, H, W] in [0, 1] (the VAE takes [-1, 1]): the posterior mean,
    /// scaled, without a graph — the denoiser's training targets and an edit's source latent.
    public func latents(images pixels: Tensor) throws -> Tensor {
        try withNoGrad { try vae.encodeLatents(pixels * 2 - 1) }
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("vae", vae)
        v.child("unet", unet)
        for item in nullCondition.items { if case let .parameter(n, t) = item { v.parameter(n, t) } }
    }

    /// The sampling loop in latent space (scaled latents, as the UNet was trained on).
    ///
    /// conditions [B, S, D], sourceLatent [B, C', h, w] or nil → latents [B, C, h, w] (scaled by
    /// `vae.config.scalingFactor`). Guidance scale 1 runs only the conditional branch. Initial and DDIM noise come
    /// from `RNG(seed:)`. `keep` lays a given latent over part of the sample after every step (`KeptRegion`),
    /// noised with the initial noise.
    public func denoise(
        conditions: Tensor, latentSize: (h: Int, w: Int), steps: Int, guidance: Float,
        sampler kind: any SamplerConfig = DDIMSampler.Config(), seed: UInt64,
        sourceLatent: Tensor? = nil, keep: KeptRegion? = nil
    ) throws -> Tensor {
        let b = conditions.shape.first ?? 0
        let latentChannels = vae.config.latentChannels
        let sourceLatent =
            sourceLatent
            ?? (sourceLatents ? Tensor(zeros: [b, latentChannels, latentSize.h, latentSize.w]) : nil)
        let expectedIn =
            latentChannels + (sourceLatent?.shape[1] ?? 0)
            + (spatialConditions ? conditions.shape.last ?? 0 : 0)
        guard unet.config.inChannels == expectedIn, unet.config.outChannels == latentChannels else {
            throw DiffusionError.invalidConfiguration(
                component: "LatentDiffusionDecoder",
                detail: "UNet in/out channels \(unet.config.inChannels)/\(unet.config.outChannels) do not fit "
                    + "\(latentChannels) latent channels\(sourceLatent == nil ? "" : " plus the source latent")"
                    + (spatialConditions ? " plus the spatial conditions" : ""))
        }
        let sampler = try kind.sampler(schedule: schedule, prediction: prediction, steps: steps)
        var rng = RNG(seed: seed)
        let shape = [b, latentChannels, latentSize.h, latentSize.w]
        if let keep, keep.latent.shape != shape {
            throw DiffusionError.invalidConfiguration(
                component: "LatentDiffusionDecoder",
                detail: "kept latent \(shapeString(keep.latent.shape)) vs sample \(shapeString(shape))")
        }
        let initial = Tensor.randn(shape, rng: &rng)
        var x = initial * sampler.initNoiseSigma
        let guided = guidance != 1
        let null = guided ? try nullCondition(batch: b) : nil
        let context = try null.map { try concat([$0, conditions], axis: 0) } ?? conditions  // [B or 2B, S, D]
        let spatial = spatialConditions ? try spatialConditionMap(context, size: latentSize) : nil
        for i in 0..<sampler.stepCount {
            try Deadline.check()  // a server's request limit stops a drawing between two steps
            var input = try sampler.scaleModelInput(x, stepIndex: i)
            if let sourceLatent { input = try concat([input, sourceLatent], axis: 1) }
            let t = try sampler.modelTimestep(i)
            var out: Tensor
            if guided {
                var pair = try concat([input, input], axis: 0)
                if let spatial { pair = try concat([pair, spatial], axis: 1) }
                let both = try unet(
                    pair, timesteps: Array(repeating: t, count: 2 * b),
                    conditions: context)  // [2B, C, h, w]
                let halves = try both.split([b, b], axis: 0)
                out = try classifierFreeGuidance(uncond: halves[0], cond: halves[1], scale: guidance)
            } else {
                if let spatial { input = try concat([input, spatial], axis: 1) }
                out = try unet(input, timesteps: Array(repeating: t, count: b), conditions: context)
            }
            let noise = sampler.needsNoise ? Tensor.randn(shape, rng: &rng) : nil
            x = try sampler.step(modelOutput: out, stepIndex: i, sample: x, noise: noise)
            if let keep { x = try keep.blend(x, sampler: sampler, noise: initial, afterStep: i) }
        }
        return x
    }

    /// conditions [B, S, D] → images [B, out, h·f, w·f], where (h, w) = `imageSize / f`. Runs under no-grad
    /// (generation); use `denoise` + `vae.decode` directly for a differentiable path.
    public func decode(
        conditions: Tensor, imageSize: (h: Int, w: Int), steps: Int, guidance: Float,
        sampler: any SamplerConfig = DDIMSampler.Config(), seed: UInt64,
        sourceLatent: Tensor? = nil, keep: KeptRegion? = nil
    ) throws -> Tensor {
        let f = vae.downsamplingFactor
        guard imageSize.h % f == 0, imageSize.w % f == 0 else {
            throw DiffusionError.invalidConfiguration(
                component: "LatentDiffusionDecoder.decode",
                detail: "image size \(imageSize.h)×\(imageSize.w) is not a multiple of the VAE factor \(f)")
        }
        return try withNoGrad {
            let z = try denoise(
                conditions: conditions, latentSize: (imageSize.h / f, imageSize.w / f), steps: steps,
                guidance: guidance, sampler: sampler, seed: seed, sourceLatent: sourceLatent,
                keep: keep)
            return try vae.decodeLatents(z)
        }
    }
}
