import ReverieCore
import ReverieIO
import ReverieTestSupport
import XCTest

@testable import ReverieDiffusion

/// DDIM and Euler trajectories against diffusers (tools/fixtures/schedulers.py), step for step.
///
/// Tolerance: 1e-5 absolute plus 1e-6 relative. DDIM samples stay near unit scale and match to < 1e-6 absolute;
/// Euler samples start at σ_max ≈ 14.6 and reach |x| ≈ 120, where one Float32 ulp is 7.6e-6, and torch's
/// vectorised `linspace` rounds a few betas one ulp differently from the scalar formula, so a purely absolute
/// 1e-5 would demand bit-identical schedules.
final class SamplerParityTests: XCTestCase {
    /// diffusers' analytic dummy denoiser: x · t / (t + 1).
    func dummy(_ x: Tensor, _ t: Float) -> Tensor { (x * t).divided(by: t + 1) }

    func run(
        _ name: String, _ sampler: some Sampler, _ fx: Checkpoint,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let ref = try fx.reference("\(name).timesteps").toArray()
        XCTAssertEqual(ref, try (0..<sampler.stepCount).map { try sampler.modelTimestep($0) }, file: file, line: line)
        var x = try fx.reference("\(name).noise") * sampler.initNoiseSigma
        assertClose(x, try fx.reference("\(name).step_0"), atol: 1e-5, rtol: 1e-6, file: file, line: line)
        var worst: Float = 0
        for i in 0..<sampler.stepCount {
            let out = dummy(try sampler.scaleModelInput(x, stepIndex: i), try sampler.modelTimestep(i))
            let noise = sampler.needsNoise ? try fx.reference("\(name).variance_noise_\(i)") : nil
            x = try sampler.step(modelOutput: out, stepIndex: i, sample: x, noise: noise)
            let expected = try fx.reference("\(name).step_\(i + 1)")
            worst = max(worst, maxAbsDiff(x.toArray(), expected.toArray()))
            assertClose(x, expected, atol: 1e-5, rtol: 1e-6, file: file, line: line)
        }
        print("sampler parity \(name): max abs error \(worst) over \(sampler.stepCount) steps")
    }

    func testSchedulesMatchDiffusers() throws {
        let fx = try Fixture.read("schedulers.h5")
        let cases: [(String, NoiseSchedule)] = [
            ("ddim_scaled_eps", try NoiseSchedule(betaSchedule: .scaledLinear, betaStart: 0.00085, betaEnd: 0.012)),
            ("ddim_linear_v_eta", try NoiseSchedule(betaSchedule: .linear)),
            ("ddim_cos_sample", try NoiseSchedule(betaSchedule: .squaredcosCapV2)),
        ]
        for (name, schedule) in cases {
            assertClose(
                schedule.alphasCumprod, try fx.reference("\(name).alphas_cumprod").toArray(),
                atol: 1e-6, rtol: 0)
        }
    }

    func testDDIMTrajectories() throws {
        let fx = try Fixture.read("schedulers.h5")
        try run(
            "ddim_scaled_eps",
            DDIMSampler(
                schedule: NoiseSchedule(betaSchedule: .scaledLinear, betaStart: 0.00085, betaEnd: 0.012), steps: 10), fx
        )
        try run(
            "ddim_linear_v_eta",
            DDIMSampler(
                schedule: NoiseSchedule(betaSchedule: .linear), steps: 8, prediction: .vPrediction, eta: 0.5,
                spacing: .trailing, clipSample: 1, setAlphaToOne: false), fx)
        try run(
            "ddim_cos_sample",
            DDIMSampler(
                schedule: NoiseSchedule(betaSchedule: .squaredcosCapV2), steps: 6, prediction: .sample,
                spacing: .linspace), fx)
    }

    func testFlowEulerTrajectories() throws {
        let fx = try Fixture.read("schedulers.h5")
        try run("flow_shift1", FlowEulerSampler(steps: 8), fx)
        try run("flow_shift3", FlowEulerSampler(steps: 6, shift: 3), fx)
    }

    func testEulerTrajectories() throws {
        let fx = try Fixture.read("schedulers.h5")
        try run(
            "euler_scaled_eps",
            EulerDiscreteSampler(
                schedule: NoiseSchedule(betaSchedule: .scaledLinear, betaStart: 0.00085, betaEnd: 0.012), steps: 10), fx
        )
        try run(
            "euler_linear_v_leading",
            EulerDiscreteSampler(
                schedule: NoiseSchedule(betaSchedule: .linear), steps: 8, prediction: .vPrediction, spacing: .leading,
                stepsOffset: 1), fx)
    }
}
