import ReverieCore
import ReverieDiffusion
import ReverieNN
import ReverieTestSupport
import XCTest

/// Blended sampling: `Sampler.noised` puts a clean latent where the sampler's own trajectory would be, and
/// `KeptRegion` keeps it there.
final class KeptRegionTests: XCTestCase {
    /// A denoiser that knows the clean sample moves it exactly along `noised`: step i from the clean latent at
    /// step i's level lands on `noised(afterStep: i)`, for every sampler and prediction type.
    func testNoisedFollowsAPerfectDenoiser() throws {
        let clean = randomInput([1, 2, 3, 3], seed: 1), noise = randomInput([1, 2, 3, 3], seed: 2)
        let schedule = try NoiseSchedule()
        for prediction: PredictionType in [.sample, .epsilon, .vPrediction] {
            let ddim = try DDIMSampler(schedule: schedule, steps: 5, prediction: prediction)
            for i in 1..<ddim.stepCount {
                let x = try ddim.noised(clean, noise: noise, afterStep: i - 1)
                let alpha = schedule.alphasCumprod[ddim.timesteps[i]]
                let out: Tensor
                switch prediction {
                case .sample: out = clean
                case .epsilon: out = noise
                case .vPrediction: out = try alpha.squareRoot() * noise - (1 - alpha).squareRoot() * clean
                }
                let next = try ddim.step(modelOutput: out, stepIndex: i, sample: x, noise: nil)
                assertClose(next, try ddim.noised(clean, noise: noise, afterStep: i), atol: 1e-4)
            }
            // After the last step the sample is clean (ᾱ = 1).
            assertClose(try ddim.noised(clean, noise: noise, afterStep: ddim.stepCount - 1), clean)
        }
        let euler = try EulerDiscreteSampler(schedule: schedule, steps: 4, prediction: .sample)
        for i in 1..<euler.stepCount {
            let x = try euler.noised(clean, noise: noise, afterStep: i - 1)
            let next = try euler.step(modelOutput: clean, stepIndex: i, sample: x, noise: nil)
            assertClose(next, try euler.noised(clean, noise: noise, afterStep: i), atol: 1e-4)
        }
        assertClose(try euler.noised(clean, noise: noise, afterStep: euler.stepCount - 1), clean)
        let flow = try FlowEulerSampler(steps: 4, shift: 3)
        for i in 1..<flow.stepCount {
            let x = try flow.noised(clean, noise: noise, afterStep: i - 1)
            let next = try flow.step(modelOutput: noise - clean, stepIndex: i, sample: x, noise: nil)
            assertClose(next, try flow.noised(clean, noise: noise, afterStep: i), atol: 1e-4)
        }
        XCTAssertThrowsError(try flow.noised(clean, noise: noise, afterStep: flow.stepCount))
    }

    /// Kept everywhere, the sampler returns the kept latent; kept nowhere, what it draws alone; kept on the left
    /// half, the left half of the latent and the right half of a drawing.
    func testKeptRegionsComeOutAsTheKeptLatent() throws {
        var rng = RNG(seed: 7)
        let vae = try AutoencoderKL(
            config: AutoencoderKLConfig(
                blockOutChannels: [8, 16], layersPerBlock: 1, latentChannels: 2, normNumGroups: 4), rng: &rng)
        let decoder = try LatentDiffusionDecoder(
            vae: vae, unet: TrainingStepTests.tinyUNet(inChannels: 2, rng: &rng),
            nullCondition: NullCondition(kind: .zeros, tokens: 3, dim: 6),
            schedule: NoiseSchedule())
        let conds = randomInput([1, 3, 6], seed: 4), latent = randomInput([1, 2, 4, 4], seed: 5)
        func draw(_ mask: [Float]?, sampler: any SamplerConfig = DDIMSampler.Config()) throws -> [Float] {
            let keep = try mask.map { try KeptRegion(latent: latent, mask: Tensor(shape: [1, 1, 4, 4], data: $0)) }
            return try withNoGrad {
                try decoder.denoise(
                    conditions: conds, latentSize: (4, 4), steps: 3, guidance: 2, sampler: sampler,
                    seed: 3, keep: keep
                ).toArray()
            }
        }
        let plain = try draw(nil)
        XCTAssertEqual(try draw(Array(repeating: 0, count: 16)), plain)
        for sampler: any SamplerConfig in [
            DDIMSampler.Config(), DDIMSampler.Config(eta: 1), EulerDiscreteSampler.Config(),
            FlowEulerSampler.Config(shift: 1),
        ] {
            assertClose(try draw(Array(repeating: 1, count: 16), sampler: sampler), latent.toArray(), atol: 1e-5)
        }
        let left = (0..<16).map { Float($0 % 4 < 2 ? 1 : 0) }
        let half = try draw(left), target = latent.toArray()
        for c in 0..<2 {
            for p in 0..<16 {
                let i = c * 16 + p
                if p % 4 < 2 {
                    XCTAssertEqual(half[i], target[i], accuracy: 1e-5)
                } else {
                    XCTAssertGreaterThan(abs(half[i] - target[i]), 1e-4, "drawn pixel \(i) equals the kept latent")
                }
            }
        }
        XCTAssertThrowsError(try KeptRegion(latent: latent, mask: Tensor(zeros: [1, 2, 4, 4])))
        let wrongSize = try KeptRegion(latent: randomInput([1, 2, 8, 8], seed: 1), mask: Tensor(zeros: [1, 1, 8, 8]))
        XCTAssertThrowsError(
            try decoder.denoise(
                conditions: conds, latentSize: (4, 4), steps: 2, guidance: 1, seed: 3,
                keep: wrongSize))
    }
}
