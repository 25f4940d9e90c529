// port of diffusers `DDPMScheduler.__init__` beta schedules and `add_noise` (schedulers/scheduling_ddpm.py)
import Foundation
import ReverieCore

/// How the DDPM variances β₁…β_T are laid out over the training timesteps.
public enum BetaSchedule: String, ConfigurationChoice {
    /// β evenly spaced from `betaStart` to `betaEnd` (Ho et al. 2020).
    case linear
    /// √β evenly spaced, then squared (Stable Diffusion's schedule).
    case scaledLinear = "scaled_linear"
    /// Betas from the cosine ᾱ(t) of Nichol & Dhariwal 2021, each capped at 0.999.
    case squaredcosCapV2 = "squaredcos_cap_v2"
}

/// A discrete DDPM noise schedule: `betas`, and the cumulative products `alphasCumprod` (ᾱ_t) that every
/// scheduler and training target reads.
///
/// Values are computed in Float32 in the order diffusers computes them (linspace, `1 − β`, a cumulative product
/// accumulated in Float64 as torch's CPU kernel does), so samplers built on it reproduce diffusers' trajectories.
public struct NoiseSchedule: Sendable, Equatable {
    /// Number of training timesteps T (diffusers `num_train_timesteps`).
    public let trainTimesteps: Int
    public let betaSchedule: BetaSchedule
    /// β_t for t in 0..<T.
    public let betas: [Float]
    /// ᾱ_t = Π_{s ≤ t} (1 − β_s).
    public let alphasCumprod: [Float]

    /// - Throws: `DiffusionError.invalidConfiguration` for fewer than 2 timesteps or betas outside (0, 1).
    public init(
        trainTimesteps: Int = 1000, betaSchedule: BetaSchedule = .linear,
        betaStart: Float = 0.0001, betaEnd: Float = 0.02
    ) throws {
        guard trainTimesteps >= 2 else {
            throw DiffusionError.invalidConfiguration(
                component: "NoiseSchedule", detail: "trainTimesteps \(trainTimesteps) must be at least 2")
        }
        guard betaSchedule == .squaredcosCapV2 || (betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd) else {
            throw DiffusionError.invalidConfiguration(
                component: "NoiseSchedule",
                detail: "betas must satisfy 0 < betaStart (\(betaStart)) ≤ betaEnd (\(betaEnd)) < 1")
        }
        let n = trainTimesteps
        var betas: [Float]
        switch betaSchedule {
        case .linear:
            betas = Self.linspace(Double(betaStart), Double(betaEnd), n)
        case .scaledLinear:
            betas = Self.linspace(Double(betaStart).squareRoot(), Double(betaEnd).squareRoot(), n).map { $0 * $0 }
        case .squaredcosCapV2:
            func alphaBar(_ t: Double) -> Double {
                let c = cos((t + 0.008) / 1.008 * Double.pi / 2)
                return c * c
            }
            betas = (0..<n).map { i in
                Float(min(1 - alphaBar(Double(i + 1) / Double(n)) / alphaBar(Double(i) / Double(n)), 0.999))
            }
        }
        // torch.cumprod on the CPU accumulates Float32 inputs in Float64 and rounds each prefix product.
        var cumprod = [Float](repeating: 0, count: n)
        var running: Double = 1
        for i in 0..<n {
            running *= Double(1 - betas[i])
            cumprod[i] = Float(running)
        }
        self.trainTimesteps = n
        self.betaSchedule = betaSchedule
        self.betas = betas
        self.alphasCumprod = cumprod
    }

    /// torch.linspace in Float32: start + i·step for the first half, end − (n−1−i)·step for the second.
    static func linspace(_ start: Double, _ end: Double, _ n: Int) -> [Float] {
        let (s, e) = (Float(start), Float(end))
        let step = (e - s) / Float(n - 1)
        let half = n / 2
        return (0..<n).map { i in i < half ? s + step * Float(i) : e - step * Float(n - 1 - i) }
    }

    /// ᾱ_t, or a thrown error naming the timestep.
    public func alphaCumprod(at t: Int) throws -> Float {
        guard t >= 0 && t < trainTimesteps else {
            throw DiffusionError.timestepOutOfRange(component: "NoiseSchedule", value: t, count: trainTimesteps)
        }
        return alphasCumprod[t]
    }

    /// Signal-to-noise ratio ᾱ_t / (1 − ᾱ_t).
    public func snr(at t: Int) throws -> Float {
        let a = try alphaCumprod(at: t)
        return a / (1 - a)
    }

    /// A [B, 1, …, 1] tensor of `f(ᾱ_t)` per batch item, to broadcast against a [B, …] sample.
    func perItem(_ timesteps: [Int], rank: Int, _ f: (Float) -> Float) throws -> Tensor {
        let values = try timesteps.map { f(try alphaCumprod(at: $0)) }
        return try Tensor(shape: [timesteps.count] + Array(repeating: 1, count: max(rank - 1, 0)), data: values)
    }

    /// The forward process q(x_t | x_0): `√ᾱ_t · x0 + √(1 − ᾱ_t) · noise`, one timestep per batch item.
    ///
    /// x0, noise [B, …] → [B, …]. Differentiable in `x0` and `noise`.
    public func addNoise(_ x0: Tensor, noise: Tensor, timesteps: [Int]) throws -> Tensor {
        try checkBatch(x0, noise, timesteps, op: "addNoise")
        let a = try perItem(timesteps, rank: x0.rank) { $0.squareRoot() }
        let b = try perItem(timesteps, rank: x0.rank) { (1 - $0).squareRoot() }
        return try a * x0 + b * noise
    }

    func checkBatch(_ x0: Tensor, _ noise: Tensor, _ timesteps: [Int], op: String) throws {
        guard x0.shape == noise.shape, x0.rank >= 1, x0.shape[0] == timesteps.count else {
            throw TensorError.shapeMismatch(
                op: "NoiseSchedule.\(op)",
                detail: "sample \(shapeString(x0.shape)), noise \(shapeString(noise.shape)), "
                    + "\(timesteps.count) timesteps: shapes must match and the batch must equal the timestep count")
        }
    }
}
