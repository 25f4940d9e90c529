// port of the training targets of diffusers' DDPM/DDIM schedulers (`get_velocity`) and min-SNR-γ weighting
// (Hang et al. 2023, as in diffusers' examples/text_to_image `compute_snr`)
import ReverieCore

/// What the denoiser predicts (diffusers `prediction_type`).
public enum PredictionType: String, ConfigurationChoice {
    /// The added noise ε.
    case epsilon
    /// The velocity v = √ᾱ_t · ε − √(1 − ᾱ_t) · x0 (Salimans & Ho 2022).
    case vPrediction = "v_prediction"
    /// The clean sample x0.
    case sample
}

extension NoiseSchedule {
    /// The regression target for `prediction` given the clean sample, the noise and the per-item timesteps.
    ///
    /// x0, noise [B, …] → [B, …]
    public func target(_ prediction: PredictionType, x0: Tensor, noise: Tensor, timesteps: [Int]) throws -> Tensor {
        try checkBatch(x0, noise, timesteps, op: "target")
        switch prediction {
        case .epsilon: return noise
        case .sample: return x0
        case .vPrediction:
            let a = try perItem(timesteps, rank: x0.rank) { $0.squareRoot() }
            let b = try perItem(timesteps, rank: x0.rank) { (1 - $0).squareRoot() }
            return try a * noise - b * x0
        }
    }

    /// Min-SNR-γ loss weights per batch item: min(SNR, γ) / SNR for ε, min(SNR, γ) / (SNR + 1) for v, and
    /// min(SNR, γ) for x0 targets, so that the per-timestep losses are balanced as in Hang et al.
    ///
    /// → [B]
    public func minSNRWeights(timesteps: [Int], gamma: Float, prediction: PredictionType) throws -> Tensor {
        guard gamma > 0 else {
            throw DiffusionError.invalidConfiguration(component: "minSNRWeights", detail: "gamma \(gamma) must be > 0")
        }
        let weights = try timesteps.map { t -> Float in
            let snr = try self.snr(at: t)
            let clipped = min(snr, gamma)
            switch prediction {
            case .epsilon: return clipped / snr
            case .vPrediction: return clipped / (snr + 1)
            case .sample: return clipped
            }
        }
        return try Tensor(shape: [timesteps.count], data: weights)
    }
}
