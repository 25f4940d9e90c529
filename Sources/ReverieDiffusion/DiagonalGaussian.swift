// port of diffusers `DiagonalGaussianDistribution` (models/autoencoders/vae.py)
import ReverieCore

/// The VAE posterior: a Gaussian with diagonal covariance per latent element.
public struct DiagonalGaussian {
    /// [B, C, h, w]
    public let mean: Tensor
    /// log σ², clamped to [−30, 20] as diffusers does. [B, C, h, w]
    public let logvar: Tensor

    /// Splits encoder moments [B, 2C, h, w] into mean and log-variance along channels.
    public init(moments: Tensor) throws {
        guard moments.rank == 4, moments.shape[1] % 2 == 0 else {
            throw TensorError.shapeMismatch(
                op: "DiagonalGaussian", detail: "moments \(shapeString(moments.shape)), expected [B, 2C, h, w]")
        }
        let parts = try moments.split([moments.shape[1] / 2, moments.shape[1] / 2], axis: 1)
        mean = parts[0]
        logvar = try parts[1].clamped(-30, 20)
    }

    /// σ = exp(logvar / 2). [B, C, h, w]
    public var std: Tensor { (logvar * 0.5).exp() }

    /// mean + σ·ε with ε from `rng` (reparameterised: differentiable in mean and logvar).
    public func sample(rng: inout RNG) throws -> Tensor {
        try mean + std * Tensor.randn(mean.shape, rng: &rng)
    }

    /// KL(q ‖ N(0, I)) per batch item: ½ Σ (μ² + σ² − 1 − log σ²). → [B]
    public func kl() throws -> Tensor {
        let terms = try mean.square() + logvar.exp() - 1 - logvar
        return try terms.sum(axes: [1, 2, 3]) * 0.5
    }
}
