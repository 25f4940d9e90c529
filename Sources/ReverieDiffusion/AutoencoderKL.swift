// port of diffusers `AutoencoderKL` (models/autoencoders/autoencoder_kl.py), without tiling or slicing
import ReverieCore
import ReverieNN

/// The KL-regularised image autoencoder of latent diffusion (Rombach et al. 2022).
///
/// Keys: `encoder.…`, `decoder.…`, `quant_conv`, `post_quant_conv` — diffusers' names, so a diffusers state dict
/// loads unchanged. Latents fed to a denoiser are `scalingFactor · z`; `decode` takes unscaled latents, as
/// diffusers' `decode` does.
public final class AutoencoderKL: Module {
    public let config: AutoencoderKLConfig
    public let encoder: VAEEncoder
    public let decoder: VAEDecoder
    public let quantConv: Conv2d?
    public let postQuantConv: Conv2d?

    /// - Throws: `DiffusionError.invalidConfiguration` for an inconsistent configuration.
    public init(config: AutoencoderKLConfig, rng: inout RNG) throws {
        try config.validate()
        self.config = config
        encoder = try VAEEncoder(config: config, rng: &rng)
        decoder = try VAEDecoder(config: config, rng: &rng)
        let l = config.latentChannels
        quantConv =
            config.useQuantConv
            ? try Conv2d(inChannels: 2 * l, outChannels: 2 * l, kernelSize: 1, rng: &rng) : nil
        postQuantConv =
            config.usePostQuantConv
            ? try Conv2d(inChannels: l, outChannels: l, kernelSize: 1, rng: &rng) : nil
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("encoder", encoder)
        v.child("decoder", decoder)
        v.child("quant_conv", quantConv)
        v.child("post_quant_conv", postQuantConv)
    }

    /// The spatial downsampling factor f = 2^(blocks − 1).
    public var downsamplingFactor: Int { 1 << (config.blockOutChannels.count - 1) }

    /// image [B, in, H, W] → posterior over [B, latent, H/f, W/f]
    public func encode(_ x: Tensor) throws -> DiagonalGaussian {
        guard x.rank == 4, x.shape[1] == config.inChannels,
            x.shape[2] % downsamplingFactor == 0, x.shape[3] % downsamplingFactor == 0
        else {
            throw TensorError.shapeMismatch(
                op: "AutoencoderKL.encode",
                detail: "image \(shapeString(x.shape)), expected [B, \(config.inChannels), H, W] with H and W "
                    + "multiples of \(downsamplingFactor)")
        }
        var moments = try encoder(x)  // [B, 2·latent, H/f, W/f]
        if let quantConv { moments = try quantConv(moments) }
        return try DiagonalGaussian(moments: moments)
    }

    /// z [B, latent, h, w] (unscaled) → image [B, out, h·f, w·f]
    public func decode(_ z: Tensor) throws -> Tensor {
        guard z.rank == 4, z.shape[1] == config.latentChannels else {
            throw TensorError.shapeMismatch(
                op: "AutoencoderKL.decode",
                detail: "latent \(shapeString(z.shape)), expected [B, \(config.latentChannels), h, w]")
        }
        return try decoder(postQuantConv?(z) ?? z)
    }

    /// Denoiser-space latents: `scalingFactor` · posterior mean. image [B, in, H, W] → [B, latent, H/f, W/f]
    public func encodeLatents(_ x: Tensor) throws -> Tensor {
        try encode(x).mean * config.scalingFactor
    }

    /// Denoiser-space latents from a posterior sample: `scalingFactor` · (mean + σ·ε).
    public func encodeLatents(_ x: Tensor, rng: inout RNG) throws -> Tensor {
        try encode(x).sample(rng: &rng) * config.scalingFactor
    }

    /// Images from denoiser-space latents: `decode(z / scalingFactor)`. z [B, latent, h, w] → [B, out, h·f, w·f]
    public func decodeLatents(_ z: Tensor) throws -> Tensor {
        try decode(z.divided(by: config.scalingFactor))
    }
}
