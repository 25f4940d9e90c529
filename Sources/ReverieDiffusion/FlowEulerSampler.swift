// port of diffusers `FlowMatchEulerDiscreteScheduler.step` (Euler on the rectified-flow ODE, no dynamic shifting)
import ReverieCore

/// Euler's method on dx/dσ = v(x, σ) from σ = 1 (noise) to σ = 0 (data), for models trained with
/// `RectifiedFlow.target`. The timestep shift σ' = s·σ / (1 + (s − 1)·σ) spends more steps at high noise
/// (Esser et al. 2024). Trajectories match diffusers' `FlowMatchEulerDiscreteScheduler`.
public struct FlowEulerSampler: Sampler {
    /// σ at each step, then a final 0.
    public let sigmas: [Float]
    public let trainTimesteps: Int

    /// σ from 1 down to the shifted σ_min = shift(1/T) in `steps` evenly spaced values (diffusers'
    /// `set_timesteps` without dynamic shifting, which applies the shift to those values once more), then 0.
    ///
    /// - Throws: `DiffusionError.invalidConfiguration` for fewer than one step or a non-positive shift.
    public init(steps: Int, shift: Float = 1, trainTimesteps: Int = 1000) throws {
        guard steps >= 1, shift > 0, trainTimesteps >= 2 else {
            throw DiffusionError.invalidConfiguration(
                component: "FlowEulerSampler",
                detail: "steps \(steps) must be ≥ 1, trainTimesteps \(trainTimesteps) ≥ 2, shift \(shift) > 0")
        }
        let t = Double(trainTimesteps)
        // diffusers' __init__: σ_min in Float32 from the shifted training sigmas.
        let s1 = Float(1) / Float(trainTimesteps)
        let sigmaMin = Double(shift * s1 / (1 + (shift - 1) * s1))
        let shiftD = Double(shift)
        sigmas =
            (0..<steps).map { i -> Float in
                let ts = steps == 1 ? t : t + (sigmaMin * t - t) * Double(i) / Double(steps - 1)  // np.linspace
                let sigma = ts / t
                return Float(shiftD * sigma / (1 + (shiftD - 1) * sigma))
            } + [0]
        self.trainTimesteps = trainTimesteps
    }

    public var stepCount: Int { sigmas.count - 1 }
    public var initNoiseSigma: Float { 1 }
    public var needsNoise: Bool { false }

    public func modelTimestep(_ index: Int) throws -> Float {
        try checkIndex(index, component: "FlowEulerSampler")
        return RectifiedFlow.modelTimestep(sigma: sigmas[index], trainTimesteps: trainTimesteps)
    }

    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) throws -> Tensor {
        try checkIndex(stepIndex, component: "FlowEulerSampler")
        return sample
    }

    /// (1 − σ_{i+1}) · clean + σ_{i+1} · noise, the rectified-flow path.
    public func noised(_ clean: Tensor, noise: Tensor, afterStep index: Int) throws -> Tensor {
        try checkIndex(index, component: "FlowEulerSampler")
        let sigma = sigmas[index + 1]
        return try (1 - sigma) * clean + sigma * noise
    }

    /// sample, velocity [B, …] → sample + (σ_{i+1} − σ_i)·velocity [B, …]
    public func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, noise: Tensor?) throws -> Tensor {
        try checkIndex(stepIndex, component: "FlowEulerSampler")
        try checkShapes(modelOutput, sample, component: "FlowEulerSampler")
        return try sample + modelOutput * (sigmas[stepIndex + 1] - sigmas[stepIndex])
    }
}

extension FlowEulerSampler {
    /// `sampler: flow` or `{type: flow, shift: 3}`: Euler on the rectified-flow ODE, for decoders trained with the
    /// rectified-flow objective.
    public struct Config: SamplerConfig, Equatable {
        public static let kind = "flow"
        public var shift: Float = 1

        public init() {}
        public init(shift: Float) { self.shift = shift }

        public init(from decoder: Decoder) throws {
            try decoder.container(keyedBy: CodingKeys.self).update(&shift, .shift)
        }

        public func validate() throws { try require(shift > 0 && shift.isFinite, "shift", "must be positive") }

        public func sampler(schedule: NoiseSchedule, prediction: PredictionType, steps: Int) throws -> any Sampler {
            try FlowEulerSampler(steps: steps, shift: shift, trainTimesteps: schedule.trainTimesteps)
        }
    }
}
