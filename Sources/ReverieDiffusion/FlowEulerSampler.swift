// port of diffusers `FlowMatchEulerDiscreteScheduler.step` (Euler on the rectified-flow ODE, no dynamic shifting)
import ReverieCore

/// Euler's method on dx/dσ = v(x, σ) from σ = 1 (noise) to σ = 0 (data), for models trained with
/// `RectifiedFlow.target`. Optional timestep shift σ' = s·σ / (1 + (s − 1)·σ) spends more steps at high noise
/// (Esser et al. 2024).
public struct FlowEulerSampler: Sampler {
    /// σ at each step, then a final 0.
    public let sigmas: [Float]
    public let trainTimesteps: Int

    /// - Throws: `DiffusionError.invalidConfiguration` for fewer than one step or a non-positive shift.
    public init(steps: Int, shift: Float = 1, trainTimesteps: Int = 1000) throws {
        guard steps >= 1, shift > 0, trainTimesteps >= 1 else {
            throw DiffusionError.invalidConfiguration(
                component: "FlowEulerSampler",
                detail: "steps \(steps) and trainTimesteps \(trainTimesteps) must be ≥ 1, shift \(shift) > 0")
        }
        let raw = (0..<steps).map { 1 - Float($0) / Float(steps) }
        sigmas = raw.map { shift * $0 / (1 + (shift - 1) * $0) } + [0]
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

    /// sample, velocity [B, …] → sample + (σ_{i+1} − σ_i)·velocity [B, …]
    public func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, noise: Tensor?) throws -> Tensor {
        try checkIndex(stepIndex, component: "FlowEulerSampler")
        try checkShapes(modelOutput, sample, component: "FlowEulerSampler")
        return try sample + modelOutput * (sigmas[stepIndex + 1] - sigmas[stepIndex])
    }
}
