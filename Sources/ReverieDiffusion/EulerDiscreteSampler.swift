// port of diffusers `EulerDiscreteScheduler` (schedulers/scheduling_euler_discrete.py) with linear sigma
// interpolation, final sigma zero and no churn (s_churn = 0)
import Foundation
import ReverieCore

/// Euler's method on the probability-flow ODE in σ = √((1 − ᾱ)/ᾱ) (Karras et al. 2022, algorithm 2 without churn).
public struct EulerDiscreteSampler: Sampler {
    public let schedule: NoiseSchedule
    public let prediction: PredictionType
    public let spacing: TimestepSpacing
    /// The (fractional) training timesteps visited, descending, as passed to the denoiser.
    public let timesteps: [Float]
    /// σ at each step, plus a final 0.
    public let sigmas: [Float]

    /// - Throws: `DiffusionError.invalidConfiguration` for a step count outside 1…T or offsets past T − 1;
    ///   `.sample` prediction is allowed (x0 = model output).
    public init(
        schedule: NoiseSchedule, steps: Int, prediction: PredictionType = .epsilon,
        spacing: TimestepSpacing = .linspace, stepsOffset: Int = 0
    ) throws {
        let t = schedule.trainTimesteps
        guard steps >= 1 && steps <= t else {
            throw DiffusionError.invalidConfiguration(
                component: "EulerDiscreteSampler", detail: "steps \(steps) must be in 1...\(t)")
        }
        var ts: [Float]
        switch spacing {
        case .linspace:
            ts = (0..<steps).reversed().map { i in
                steps == 1 ? 0 : Float(Double(t - 1) * Double(i) / Double(steps - 1))
            }
        case .leading:
            let ratio = t / steps
            ts = (0..<steps).reversed().map { Float($0 * ratio + stepsOffset) }
        case .trailing:
            let ratio = Double(t) / Double(steps)
            ts = stride(from: Double(t), to: 0, by: -ratio).map { Float($0.rounded(.toNearestOrEven)) - 1 }
        }
        guard ts.allSatisfy({ $0 >= 0 && $0 <= Float(t - 1) }) else {
            throw DiffusionError.invalidConfiguration(
                component: "EulerDiscreteSampler",
                detail: "timesteps \(ts) leave [0, \(t - 1)] (stepsOffset \(stepsOffset))")
        }
        // diffusers: σ per training step in Float32, linear interpolation in Float64, stored as Float32.
        let full = schedule.alphasCumprod.map { Double(((1 - $0) / $0).squareRoot()) }
        let sig = ts.map { tf -> Float in
            let x = Double(tf)
            let lo = min(Int(x.rounded(.down)), t - 1)
            let hi = min(lo + 1, t - 1)
            let frac = x - Double(lo)
            return Float(full[lo] + (full[hi] - full[lo]) * frac)
        }
        self.schedule = schedule
        self.prediction = prediction
        self.spacing = spacing
        self.timesteps = ts
        self.sigmas = sig + [0]
    }

    public var stepCount: Int { timesteps.count }
    public var needsNoise: Bool { false }

    /// σ_max for linspace and trailing spacing, √(σ_max² + 1) otherwise (as diffusers).
    public var initNoiseSigma: Float {
        let maxSigma = sigmas.max() ?? 0
        return spacing == .leading ? (maxSigma * maxSigma + 1).squareRoot() : maxSigma
    }

    public func modelTimestep(_ index: Int) throws -> Float {
        try checkIndex(index, component: "EulerDiscreteSampler")
        return timesteps[index]
    }

    /// sample [B, …] → sample / √(σ² + 1)
    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) throws -> Tensor {
        try checkIndex(stepIndex, component: "EulerDiscreteSampler")
        let sigma = sigmas[stepIndex]
        return sample.divided(by: (sigma * sigma + 1).squareRoot())
    }

    /// clean + σ_{i+1} · noise (Euler samples are unscaled: x = x0 + σ·ε).
    public func noised(_ clean: Tensor, noise: Tensor, afterStep index: Int) throws -> Tensor {
        try checkIndex(index, component: "EulerDiscreteSampler")
        return try clean + sigmas[index + 1] * noise
    }

    /// sample, modelOutput [B, …] → sample at σ_{i+1} [B, …]. Differentiable in both.
    public func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, noise: Tensor?) throws -> Tensor {
        try checkIndex(stepIndex, component: "EulerDiscreteSampler")
        try checkShapes(modelOutput, sample, component: "EulerDiscreteSampler")
        let sigma = sigmas[stepIndex]
        let predX0: Tensor
        switch prediction {
        case .sample: predX0 = modelOutput
        case .epsilon: predX0 = try sample - sigma * modelOutput
        case .vPrediction:
            predX0 =
                try modelOutput * (-sigma / (sigma * sigma + 1).squareRoot())
                + sample.divided(by: sigma * sigma + 1)
        }
        let derivative = try (sample - predX0).divided(by: sigma)
        let dt = sigmas[stepIndex + 1] - sigma
        return try sample + derivative * dt
    }
}

extension EulerDiscreteSampler {
    /// `sampler: euler`.
    public struct Config: SamplerConfig, Equatable {
        public static let kind = "euler"
        public init() {}

        public func sampler(schedule: NoiseSchedule, prediction: PredictionType, steps: Int) throws -> any Sampler {
            try EulerDiscreteSampler(schedule: schedule, steps: steps, prediction: prediction)
        }
    }
}
