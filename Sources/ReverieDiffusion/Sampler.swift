import ReverieCore

/// How inference timesteps are picked from the training timesteps (diffusers `timestep_spacing`; see Lin et al.
/// 2023, table 2).
public enum TimestepSpacing: String, Codable, Sendable, CaseIterable {
    /// Evenly spaced over [0, T − 1], both ends included.
    case linspace
    /// Multiples of T / steps from 0 (plus `stepsOffset`).
    case leading
    /// Multiples of T / steps down from T, minus one (always starts at T − 1).
    case trailing
}

/// A sampler that walks a sample from noise to data in a fixed list of steps. Samplers are stateless: each step
/// names its index, so one sampler can serve many images and a step can be repeated (for guidance) freely.
///
/// The loop every pipeline runs:
/// ```swift
/// var x = noise * sampler.initNoiseSigma
/// for i in 0..<sampler.stepCount {
///     let out = try model(sampler.scaleModelInput(x, stepIndex: i), sampler.modelTimestep(i))
///     x = try sampler.step(modelOutput: out, stepIndex: i, sample: x, noise: …)
/// }
/// ```
public protocol Sampler: Sendable {
    /// Number of denoising steps.
    var stepCount: Int { get }
    /// The standard deviation of the initial noise (1 for DDIM, σ_max-based for Euler).
    var initNoiseSigma: Float { get }
    /// The timestep value passed to the denoiser at step `index` (fractional for interpolated schedules).
    func modelTimestep(_ index: Int) throws -> Float
    /// The input the denoiser sees at step `index` (identity, or x / √(σ² + 1) for σ-parameterised samplers).
    func scaleModelInput(_ sample: Tensor, stepIndex: Int) throws -> Tensor
    /// Whether `step` consumes fresh Gaussian noise (DDIM with η > 0).
    var needsNoise: Bool { get }
    /// One step: the sample at step `index + 1` from the sample and the model output at step `index`.
    /// `noise` (same shape as `sample`) is used only when `needsNoise`.
    func step(modelOutput: Tensor, stepIndex: Int, sample: Tensor, noise: Tensor?) throws -> Tensor
    /// A clean sample brought to the noise level the sample has after step `index` (`noise` shaped like `clean`):
    /// what blended sampling lays over the regions it keeps (Avrahami et al. 2023, blended latent diffusion).
    func noised(_ clean: Tensor, noise: Tensor, afterStep index: Int) throws -> Tensor
}

extension Sampler {
    func checkIndex(_ index: Int, component: String) throws {
        guard index >= 0 && index < stepCount else {
            throw DiffusionError.timestepOutOfRange(component: component, value: index, count: stepCount)
        }
    }

    func checkShapes(_ modelOutput: Tensor, _ sample: Tensor, component: String) throws {
        guard modelOutput.shape == sample.shape else {
            throw TensorError.shapeMismatch(
                op: "\(component).step",
                detail: "model output \(shapeString(modelOutput.shape)) vs sample \(shapeString(sample.shape))")
        }
    }
}
