// port of the rectified-flow / flow-matching training objective (Liu et al. 2022; Lipman et al. 2022) in the
// convention of diffusers `FlowMatchEulerDiscreteScheduler`: x_σ = (1 − σ)·x0 + σ·noise, velocity = noise − x0
import ReverieCore

/// The rectified-flow path between data (σ = 0) and noise (σ = 1), and its velocity target.
public enum RectifiedFlow {
    /// The point at `sigmas` (one per batch item, each in [0, 1]) on the straight path from x0 to noise.
    ///
    /// x0, noise [B, …] → [B, …]. Differentiable in `x0` and `noise`.
    public static func interpolate(_ x0: Tensor, noise: Tensor, sigmas: [Float]) throws -> Tensor {
        try check(x0, noise, sigmas)
        let s = try perItem(sigmas, rank: x0.rank)
        return try (1 - s) * x0 + s * noise
    }

    /// The velocity the model regresses: d x_σ / dσ = noise − x0.
    ///
    /// x0, noise [B, …] → [B, …]
    public static func target(_ x0: Tensor, noise: Tensor) throws -> Tensor {
        guard x0.shape == noise.shape else {
            throw TensorError.shapeMismatch(
                op: "RectifiedFlow.target",
                detail: "sample \(shapeString(x0.shape)) vs noise \(shapeString(noise.shape))")
        }
        return try noise - x0
    }

    /// The timestep value the denoiser is conditioned on for σ (diffusers multiplies σ by the training steps).
    public static func modelTimestep(sigma: Float, trainTimesteps: Int = 1000) -> Float {
        sigma * Float(trainTimesteps)
    }

    static func perItem(_ sigmas: [Float], rank: Int) throws -> Tensor {
        try Tensor(shape: [sigmas.count] + Array(repeating: 1, count: max(rank - 1, 0)), data: sigmas)
    }

    static func check(_ x0: Tensor, _ noise: Tensor, _ sigmas: [Float]) throws {
        guard x0.shape == noise.shape, x0.rank >= 1, x0.shape[0] == sigmas.count else {
            throw TensorError.shapeMismatch(
                op: "RectifiedFlow.interpolate",
                detail: "sample \(shapeString(x0.shape)), noise \(shapeString(noise.shape)), \(sigmas.count) sigmas")
        }
        guard sigmas.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw DiffusionError.invalidConfiguration(
                component: "RectifiedFlow", detail: "sigmas \(sigmas) must lie in [0, 1]")
        }
    }
}
