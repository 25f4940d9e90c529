import Foundation
import ReverieCore
import ReverieNN

/// What the denoiser is trained to predict and how noisy inputs are made.
public enum DenoisingObjective: Sendable {
    /// DDPM forward process with the given target; `minSNRGamma` turns on min-SNR-γ weighting.
    case ddpm(NoiseSchedule, PredictionType, minSNRGamma: Float? = nil)
    /// Rectified flow: x_σ = (1 − σ)·x0 + σ·noise with σ ~ U[0, 1), target noise − x0.
    case rectifiedFlow(trainTimesteps: Int = 1000)
}

/// The denoising loss of one batch: draws a timestep and Gaussian noise per item from `rng`, noises the latents,
/// runs the UNet on them (with `sourceLatents` concatenated along channels when given) and the conditions, and
/// returns the (optionally min-SNR-weighted) mean squared error against the objective's target. With
/// `conditionDropout`, each item's conditions are first replaced by the null condition with its probability (the
/// training half of classifier-free guidance; recipes default to 10 %). With `spatialConditions`, the conditions are
/// also concatenated to the input channels (`spatialConditionMap`). With `pixelWeights` [B, 1, h, w] (no gradient),
/// each item's error is the weighted mean Σ w·e² / (C·Σ w) instead of the plain mean — the decoder stage's
/// object weighting, so that the few latent pixels small objects cover are not drowned by the background.
/// `timestepPower` p skews the DDPM timesteps towards the noisy end: t = ⌊T·u^(1/p)⌋, u ~ U[0, 1) (p = 1 is
/// uniform; p = 2 makes the density grow linearly in t). A decoder sampled from pure noise draws what it predicts
/// at the noisiest steps, so that is where its training matters most.
///
/// latents [B, C, h, w], conditions [B, S, D], sourceLatents [B, C', h, w] or nil → scalar loss.
/// Gradients reach the UNet's trainable parameters and the conditions (also through a frozen UNet, whose
/// parameters get none).
public func denoisingLoss(
    unet: UNet2DConditionModel, objective: DenoisingObjective, latents: Tensor,
    conditions: Tensor, sourceLatents: Tensor? = nil,
    conditionDropout: (null: NullCondition, p: Float)? = nil, spatialConditions: Bool = false,
    pixelWeights: Tensor? = nil, timestepPower: Double = 1,
    rng: inout RNG
) throws -> Tensor {
    guard latents.rank == 4 else {
        throw TensorError.shapeMismatch(
            op: "denoisingLoss",
            detail: "latents \(shapeString(latents.shape)), "
                + "expected [B, C, h, w]")
    }
    let b = latents.shape[0]
    let noise = Tensor.randn(latents.shape, rng: &rng)
    let noisy: Tensor, target: Tensor, modelTimesteps: [Float]
    var weights: Tensor?
    switch objective {
    case let .ddpm(schedule, prediction, gamma):
        let ts = trainingTimesteps(b, of: schedule.trainTimesteps, power: timestepPower, rng: &rng)
        noisy = try schedule.addNoise(latents, noise: noise, timesteps: ts)
        target = try schedule.target(prediction, x0: latents, noise: noise, timesteps: ts)
        modelTimesteps = ts.map(Float.init)
        if let gamma { weights = try schedule.minSNRWeights(timesteps: ts, gamma: gamma, prediction: prediction) }
    case let .rectifiedFlow(trainTimesteps):
        let sigmas = (0..<b).map { _ in rng.uniform() }
        noisy = try RectifiedFlow.interpolate(latents, noise: noise, sigmas: sigmas)
        target = try RectifiedFlow.target(latents, noise: noise)
        modelTimesteps = sigmas.map { RectifiedFlow.modelTimestep(sigma: $0, trainTimesteps: trainTimesteps) }
    }
    var input = try sourceLatents.map { try concat([noisy, $0], axis: 1) } ?? noisy  // [B, in, h, w]
    let context = try conditionDropout.map { try $0.null.dropout(conditions, p: $0.p, rng: &rng) } ?? conditions
    if spatialConditions {  // the (dropped-out) conditions laid on the grid as extra input channels
        input = try concat([input, spatialConditionMap(context, size: (latents.shape[2], latents.shape[3]))], axis: 1)
    }
    let prediction = try unet(input, timesteps: modelTimesteps, conditions: context)  // [B, C, h, w]
    guard prediction.shape == target.shape else {
        throw TensorError.shapeMismatch(
            op: "denoisingLoss",
            detail: "UNet output \(shapeString(prediction.shape)) vs target "
                + "\(shapeString(target.shape)): out_channels must equal the latent channels")
    }
    let perItem: Tensor  // [B]
    if let w = pixelWeights {
        guard w.shape == [b, 1, latents.shape[2], latents.shape[3]] else {
            throw TensorError.shapeMismatch(
                op: "denoisingLoss",
                detail: "pixelWeights \(shapeString(w.shape)), "
                    + "expected [\(b), 1, \(latents.shape[2]), \(latents.shape[3])]")
        }
        let totals = try w.sum(axes: [1, 2, 3]).toArray().map { 1 / (max($0, 1e-12) * Float(latents.shape[1])) }
        perItem = try ((prediction - target).square() * w).sum(axes: [1, 2, 3]) * Tensor(shape: [b], data: totals)
    } else {
        perItem = try (prediction - target).square().mean(axes: [1, 2, 3])
    }
    return try (weights.map { try perItem * $0 } ?? perItem).mean()
}

/// `count` training timesteps in 0..<T: uniform for `power` 1 (one draw each, as before the skew existed),
/// otherwise ⌊T·u^(1/power)⌋ — density ∝ t^(power − 1), mean T·power / (power + 1).
func trainingTimesteps(_ count: Int, of t: Int, power: Double, rng: inout RNG) -> [Int] {
    (0..<count).map { _ in
        power == 1 ? Int(rng.next() % UInt64(t)) : min(Int(Double(t) * pow(Double(rng.uniform()), 1 / power)), t - 1)
    }
}

/// One optimiser step of the denoiser: zero gradients, `denoisingLoss`, backward, `optimizer.step()`.
/// Returns the loss. Frozen parameters (e.g. the whole UNet when only conditions train) are left untouched.
@discardableResult
public func denoiserTrainingStep(
    unet: UNet2DConditionModel, optimizer: AdamW, objective: DenoisingObjective,
    latents: Tensor, conditions: Tensor, sourceLatents: Tensor? = nil,
    conditionDropout: (null: NullCondition, p: Float)? = nil,
    rng: inout RNG
) throws -> Float {
    optimizer.zeroGrad()
    let loss = try denoisingLoss(
        unet: unet, objective: objective, latents: latents, conditions: conditions,
        sourceLatents: sourceLatents, conditionDropout: conditionDropout, rng: &rng)
    try loss.backward()
    optimizer.step()
    return try loss.item()
}
