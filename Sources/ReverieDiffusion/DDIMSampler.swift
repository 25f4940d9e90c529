// port of diffusers `DDIMScheduler` (schedulers/scheduling_ddim.py): set_timesteps and step, without thresholding
import ReverieCore

/// Denoising diffusion implicit models (Song et al. 2021): deterministic for η = 0, DDPM-like for η = 1.
public struct DDIMSampler: Sampler {
    public let schedule: NoiseSchedule
    public let prediction: PredictionType
    /// The stochasticity η ∈ [0, 1].
    public let eta: Float
    /// If set, the predicted x0 is clamped to ±`clipSample` (diffusers `clip_sample_range`).
    public let clipSample: Float?
    /// ᾱ used after the last step: 1 (`set_alpha_to_one`) or ᾱ_0.
    public let finalAlphaCumprod: Float
    /// The training timesteps visited, in order (descending).
    public let timesteps: [Int]

    /// - Throws: `DiffusionError.invalidConfiguration` for a step count outside 1…T, η outside [0, 1], or offsets
    ///   that push a timestep past T − 1.
    public init(
        schedule: NoiseSchedule, steps: Int, prediction: PredictionType = .epsilon, eta: Float = 0,
        spacing: TimestepSpacing = .leading, stepsOffset: Int = 0, clipSample: Float? = nil,
        setAlphaToOne: Bool = true
    ) throws {
        let t = schedule.trainTimesteps
        guard steps >= 1 && steps <= t else {
            throw DiffusionError.invalidConfiguration(
                component: "DDIMSampler", detail: "steps \(steps) must be in 1...\(t)")
        }
        guard eta >= 0 && eta <= 1 else {
            throw DiffusionError.invalidConfiguration(component: "DDIMSampler", detail: "eta \(eta) must be in [0, 1]")
        }
        var ts: [Int]
        switch spacing {
        case .linspace:
            ts = (0..<steps).reversed().map { i in
                steps == 1 ? 0 : Int((Double(t - 1) * Double(i) / Double(steps - 1)).rounded(.toNearestOrEven))
            }
        case .leading:
            let ratio = t / steps
            ts = (0..<steps).reversed().map { $0 * ratio + stepsOffset }
        case .trailing:
            let ratio = Double(t) / Double(steps)
            ts = stride(from: Double(t), to: 0, by: -ratio).map { Int($0.rounded(.toNearestOrEven)) - 1 }
        }
        guard let first = ts.first, first < t, ts.allSatisfy({ $0 >= 0 }) else {
            throw DiffusionError.invalidConfiguration(
                component: "DDIMSampler", detail: "timesteps \(ts) leave 0..<\(t) (stepsOffset \(stepsOffset))")
        }
        self.schedule = schedule
        self.prediction = prediction
        self.eta = eta
        self.clipSample = clipSample
        self.finalAlphaCumprod = setAlphaToOne ? 1 : schedule.alphasCumprod[0]
        self.timesteps = ts
    }

    public var stepCount: Int { timesteps.count }
    public var initNoiseSigma: Float { 1 }
    public var needsNoise: Bool { eta > 0 }

    public func modelTimestep(_ index: Int) throws -> Float {
        try checkIndex(index, component: "DDIMSampler")
        return Float(timesteps[index])
    }

    public func scaleModelInput(_ sample: Tensor, stepIndex: Int) throws -> Tensor {
        try checkIndex(stepIndex, component: "DDIMSampler")
        return sample
    }

    /// ᾱ of the sample after step `index` (diffusers steps back by T / steps from the current timestep, whatever
    /// the spacing; past 0 it is `finalAlphaCumprod`).
    func alphaCumprodAfter(_ index: Int) -> Float {
        let prevT = timesteps[index] - schedule.trainTimesteps / stepCount
        return prevT >= 0 ? schedule.alphasCumprod[prevT] : finalAlphaCumprod
    }

    /// √ᾱ · clean + √(1 − ᾱ) · noise at the ᾱ after step `index`.
    public func noised(_ clean: Tensor, noise: Tensor, afterStep index: Int) throws -> Tensor {
        try checkIndex(index, component: "DDIMSampler")
        let alpha = alphaCumprodAfter(index)
        return try alpha.squareRoot() * clean + (1 - alpha).squareRoot() * noise
    }

    /// sample, modelOutput [B, …] → x_{t−Δ} [B, …]. Differentiable in both.
    public func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, noise: Tensor?) throws -> Tensor {
        try checkIndex(stepIndex, component: "DDIMSampler")
        try checkShapes(modelOutput, sample, component: "DDIMSampler")
        let alphaT = schedule.alphasCumprod[timesteps[stepIndex]]
        let alphaPrev = alphaCumprodAfter(stepIndex)
        let betaT = 1 - alphaT
        var predX0: Tensor, predEps: Tensor
        switch prediction {
        case .epsilon:
            predX0 = try (sample - betaT.squareRoot() * modelOutput).divided(by: alphaT.squareRoot())
            predEps = modelOutput
        case .sample:
            predX0 = modelOutput
            predEps = try (sample - alphaT.squareRoot() * predX0).divided(by: betaT.squareRoot())
        case .vPrediction:
            predX0 = try alphaT.squareRoot() * sample - betaT.squareRoot() * modelOutput
            predEps = try alphaT.squareRoot() * modelOutput + betaT.squareRoot() * sample
        }
        if let clip = clipSample { predX0 = try predX0.clamped(-clip, clip) }
        let betaPrev = 1 - alphaPrev
        let variance = (betaPrev / betaT) * (1 - alphaT / alphaPrev)
        let std = eta * variance.squareRoot()
        let direction = (1 - alphaPrev - std * std).squareRoot() * predEps
        var prev = try alphaPrev.squareRoot() * predX0 + direction
        if eta > 0 {
            guard let noise, noise.shape == sample.shape else {
                throw TensorError.shapeMismatch(
                    op: "DDIMSampler.step",
                    detail: "eta \(eta) needs noise shaped like the sample \(shapeString(sample.shape))")
            }
            prev = try prev + std * noise
        }
        return prev
    }
}

extension DDIMSampler {
    /// `sampler: ddim` or `{type: ddim, eta: 0.5}`: η = 0 is deterministic.
    public struct Config: SamplerConfig, Equatable {
        public static let kind = "ddim"
        public var eta: Float = 0

        public init() {}
        public init(eta: Float) { self.eta = eta }

        public init(from decoder: Decoder) throws {
            try decoder.container(keyedBy: CodingKeys.self).update(&eta, .eta)
        }

        public func validate() throws {
            try require(eta >= 0 && eta <= 1, "eta", "must be in 0...1, got \(eta)")
        }

        public func sampler(schedule: NoiseSchedule, prediction: PredictionType, steps: Int) throws -> any Sampler {
            try DDIMSampler(schedule: schedule, steps: steps, prediction: prediction, eta: eta)
        }
    }
}
