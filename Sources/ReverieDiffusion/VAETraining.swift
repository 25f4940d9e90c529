import ReverieCore
import ReverieNN

/// The pixel reconstruction loss of the VAE stage.
public enum ReconstructionLoss: String, ConfigurationChoice {
    case l1, l2
}

/// The terms of one VAE loss evaluation.
public struct VAELoss {
    /// reconstruction + klWeight · kl (scalar, differentiable)
    public let total: Tensor
    /// Mean absolute or squared pixel error (scalar).
    public let reconstruction: Tensor
    /// KL(q(z|x) ‖ N(0, I)) summed over latent elements, averaged over the batch (scalar).
    public let kl: Tensor
}

/// Encodes `images`, samples the posterior with `rng` (reparameterised), decodes, and returns the
/// reconstruction and KL terms. images [B, in, H, W] with values in the range the decoder should reproduce.
public func vaeLoss(
    vae: AutoencoderKL, images: Tensor, klWeight: Float, reconstruction: ReconstructionLoss = .l2,
    rng: inout RNG
) throws -> VAELoss {
    let posterior = try vae.encode(images)
    let decoded = try vae.decode(posterior.sample(rng: &rng))  // [B, out, H, W]
    guard decoded.shape == images.shape else {
        throw TensorError.shapeMismatch(
            op: "vaeLoss", detail: "decoded \(shapeString(decoded.shape)) vs images \(shapeString(images.shape))")
    }
    let diff = try decoded - images
    let rec = reconstruction == .l1 ? diff.abs().mean() : diff.square().mean()
    let kl = try posterior.kl().mean()
    return VAELoss(total: try rec + kl * klWeight, reconstruction: rec, kl: kl)
}

/// One optimiser step of the VAE: zero gradients, `vaeLoss`, backward, `optimizer.step()`.
/// Returns (total, reconstruction, kl) as numbers.
@discardableResult
public func vaeTrainingStep(
    vae: AutoencoderKL, optimizer: AdamW, images: Tensor, klWeight: Float,
    reconstruction: ReconstructionLoss = .l2, rng: inout RNG
)
    throws -> (total: Float, reconstruction: Float, kl: Float)
{
    optimizer.zeroGrad()
    let loss = try vaeLoss(vae: vae, images: images, klWeight: klWeight, reconstruction: reconstruction, rng: &rng)
    try loss.total.backward()
    optimizer.step()
    return (try loss.total.item(), try loss.reconstruction.item(), try loss.kl.item())
}
