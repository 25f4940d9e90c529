import ReverieCore
import ReverieDiffusion
import ReverieNN

/// The workloads of `reverie bench decoder` (issue 4): the UNet denoiser's training step and end-to-end image
/// generation through the latent diffusion decoder.
enum DecoderBench {
    /// The bench UNet: block_out_channels (64, 128), one layer per block, cross-attention dim 192, 16-dim heads.
    static func unet(rng: inout RNG) throws -> UNet2DConditionModel {
        try UNet2DConditionModel(
            config: UNet2DConditionConfig(
                inChannels: 4, outChannels: 4, blockOutChannels: [64, 128], layersPerBlock: 1,
                downBlockTypes: ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
                upBlockTypes: ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"], crossAttentionDim: 192, heads: [4, 8],
                normNumGroups: 32), rng: &rng)
    }

    /// One denoiser training step (forward, ε-prediction loss, backward, AdamW) at batch 32 on 16×16×4 latents
    /// with 16 condition tokens. FLOPs: 3 × the forward's product FLOPs.
    static func unetTrainingStep(
        batch: Int = 32, size: Int = 16, tokens: Int = 16, repeats: Int,
        ceiling: SGEMMCeiling
    ) throws -> BenchResult {
        var rng = RNG(seed: 4)
        let model = try unet(rng: &rng)
        let optimizer = try AdamW(parameters: model.trainableParameters(), lr: 1e-4)
        let latents = Tensor.randn([batch, 4, size, size], rng: &rng)
        let conditions = Tensor.randn([batch, tokens, 192], rng: &rng)
        let objective = DenoisingObjective.ddpm(
            try NoiseSchedule(
                betaSchedule: .scaledLinear, betaStart: 0.00085,
                betaEnd: 0.012), .epsilon)
        let flops = 3 * model.forwardFLOPs(batch: batch, height: size, width: size, tokens: tokens)
        var result = try ceiling.measure(
            "unet_64x128_b\(batch)_\(size)x\(size)x4_c192x\(tokens)_train_step",
            flops: flops, repeats: repeats
        ) {
            try denoiserTrainingStep(
                unet: model, optimizer: optimizer, objective: objective, latents: latents,
                conditions: conditions, rng: &rng)
        }
        result.detail["samples_per_second"] = Double(batch) / result.seconds
        return result
    }

    /// End-to-end 64×64 generation: 25 DDIM steps with guidance 5 (conditional and unconditional branches in one
    /// batch) through the bench UNet on 16×16 latents, then a 4×-upsampling VAE decoder (32, 64, 64).
    /// FLOPs count the UNet products only; the rate to read is `images_per_second`.
    static func generation(
        images: Int = 1, steps: Int = 25, tokens: Int = 16, repeats: Int,
        ceiling: SGEMMCeiling
    ) throws -> BenchResult {
        var rng = RNG(seed: 5)
        let vae = try AutoencoderKL(
            config: AutoencoderKLConfig(
                inChannels: 3, outChannels: 3, blockOutChannels: [32, 64, 64], layersPerBlock: 1, latentChannels: 4,
                normNumGroups: 32), rng: &rng)
        let model = try unet(rng: &rng)
        let decoder = try LatentDiffusionDecoder(
            vae: vae, unet: model, nullCondition: NullCondition(kind: .learned, tokens: tokens, dim: 192),
            schedule: NoiseSchedule(betaSchedule: .scaledLinear, betaStart: 0.00085, betaEnd: 0.012))
        try decoder.freeze()
        let conditions = Tensor.randn([images, tokens, 192], rng: &rng)
        let flops = Double(steps) * model.forwardFLOPs(batch: 2 * images, height: 16, width: 16, tokens: tokens)
        var result = try ceiling.measure(
            "generate_64x64_ddim\(steps)_cfg_images\(images)", flops: flops,
            repeats: repeats
        ) {
            _ = try decoder.decode(conditions: conditions, imageSize: (64, 64), steps: steps, guidance: 5, seed: 1)
        }
        result.detail["images_per_second"] = Double(images) / result.seconds
        return result
    }
}
