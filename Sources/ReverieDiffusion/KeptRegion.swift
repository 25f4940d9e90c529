import ReverieCore

/// Blended sampling (Avrahami et al. 2023, blended latent diffusion): where `mask` is 1, the sample after every
/// step is replaced by `latent` brought to that step's noise level (`Sampler.noised`), so those regions come out
/// as the given latent and the denoiser draws only the rest — an edit keeps what its instruction leaves alone.
public struct KeptRegion {
    /// Denoiser-space latent to keep [B, C, h, w] (`LatentDiffusionDecoder.latents(images:)`).
    public let latent: Tensor
    /// 1 where `latent` is kept, 0 where the denoiser draws: [B, 1, h, w] (values in between blend).
    public let mask: Tensor

    /// - Throws: `TensorError.shapeMismatch` unless `mask` is [B, 1, h, w] for a latent [B, C, h, w].
    public init(latent: Tensor, mask: Tensor) throws {
        let l = latent.shape, m = mask.shape
        guard l.count == 4, m == [l[0], 1, l[2], l[3]] else {
            throw TensorError.shapeMismatch(
                op: "KeptRegion", detail: "mask \(shapeString(m)) for latent \(shapeString(l)); expected [B, 1, h, w]")
        }
        (self.latent, self.mask) = (latent, mask)
    }

    /// The sample after step `index` with the kept regions laid over it.
    func blend(_ sample: Tensor, sampler: any Sampler, noise: Tensor, afterStep index: Int) throws -> Tensor {
        let kept = try sampler.noised(latent, noise: noise, afterStep: index)
        return try mask * kept + (1 - mask) * sample
    }
}
