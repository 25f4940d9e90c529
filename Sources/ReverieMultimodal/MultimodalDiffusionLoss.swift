import ReverieCore
import ReverieDiffusion

extension MultimodalModel {
    /// The denoising loss of the frozen decoder on the target images, conditioned on the predicted conditions
    /// (DreamLLM, MetaQuery): its gradient flows through the frozen UNet into the conditions, the head, the queries
    /// and the LLM, while the decoder's own parameters get none.
    ///
    /// predicted [N, K, Dc], target pixels [N, 3, H, W] in [0, 1] → scalar. The VAE takes pixels in [-1, 1]
    /// (diffusers' convention) and encodes them to the posterior mean without a graph; the objective is DDPM with
    /// the decoder's own schedule and prediction type, timesteps skewed by `timestepPower` (1 = uniform). Timesteps
    /// and noise come from `rng`.
    ///
    /// - Throws: `MultimodalError.invalidConfiguration` when the model has no decoder.
    public func diffusionLoss(
        predicted: Tensor, targetImages pixels: Tensor, timestepPower: Double = 1,
        rng: inout RNG
    ) throws -> Tensor {
        guard let decoder else {
            throw MultimodalError.invalidConfiguration(
                key: "diffusion_weight", detail: "the denoising loss needs a decoder, the model has none")
        }
        let latents = try decoder.latents(images: pixels)  // [N, C, h, w]
        return try denoisingLoss(
            unet: decoder.unet, objective: .ddpm(decoder.schedule, decoder.prediction),
            latents: latents, conditions: predicted,
            sourceLatents: decoder.sourceLatents ? Tensor(zeros: latents.shape) : nil,
            spatialConditions: decoder.spatialConditions, timestepPower: timestepPower,
            rng: &rng)
    }
}
