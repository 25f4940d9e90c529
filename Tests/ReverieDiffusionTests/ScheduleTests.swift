import ReverieCore
import ReverieTestSupport
import XCTest

@testable import ReverieDiffusion

final class ScheduleTests: XCTestCase {
    func testAddNoiseAndTargetsAreConsistent() throws {
        let schedule = try NoiseSchedule(betaSchedule: .scaledLinear, betaStart: 0.00085, betaEnd: 0.012)
        let x0 = randomInput([3, 2, 4, 4], seed: 1), noise = randomInput([3, 2, 4, 4], seed: 2)
        let ts = [0, 500, 999]
        let xt = try schedule.addNoise(x0, noise: noise, timesteps: ts)
        let v = try schedule.target(.vPrediction, x0: x0, noise: noise, timesteps: ts)
        // x0 = √ᾱ·x_t − √(1−ᾱ)·v and ε = √(1−ᾱ)·x_t + √ᾱ·v, per item.
        for (b, t) in ts.enumerated() {
            let a = schedule.alphasCumprod[t]
            let xtb = try xt.slice(axis: 0, start: b, end: b + 1), vb = try v.slice(axis: 0, start: b, end: b + 1)
            assertClose(
                try a.squareRoot() * xtb - (1 - a).squareRoot() * vb,
                try x0.slice(axis: 0, start: b, end: b + 1), atol: 1e-5)
            assertClose(
                try (1 - a).squareRoot() * xtb + a.squareRoot() * vb,
                try noise.slice(axis: 0, start: b, end: b + 1), atol: 1e-5)
        }
        XCTAssertTrue(try schedule.target(.epsilon, x0: x0, noise: noise, timesteps: ts) === noise)
        XCTAssertTrue(try schedule.target(.sample, x0: x0, noise: noise, timesteps: ts) === x0)
        XCTAssertThrowsError(try schedule.addNoise(x0, noise: noise, timesteps: [0, 1]))
        XCTAssertThrowsError(try schedule.addNoise(x0, noise: noise, timesteps: [0, 1, 1000]))
    }

    func testScheduleShapes() throws {
        let cos = try NoiseSchedule(betaSchedule: .squaredcosCapV2)
        XCTAssertEqual(cos.betas.max()!, 0.999, accuracy: 1e-6)
        XCTAssertTrue(zip(cos.alphasCumprod, cos.alphasCumprod.dropFirst()).allSatisfy { $0 > $1 })
        XCTAssertThrowsError(try NoiseSchedule(trainTimesteps: 1))
        XCTAssertThrowsError(try NoiseSchedule(betaStart: 0.1, betaEnd: 0.01))
    }

    func testMinSNRWeights() throws {
        let s = try NoiseSchedule()
        let ts = [0, 300, 999]
        let snr = try ts.map { try s.snr(at: $0) }
        let eps = try s.minSNRWeights(timesteps: ts, gamma: 5, prediction: .epsilon).toArray()
        let v = try s.minSNRWeights(timesteps: ts, gamma: 5, prediction: .vPrediction).toArray()
        let x0 = try s.minSNRWeights(timesteps: ts, gamma: 5, prediction: .sample).toArray()
        for i in 0..<3 {
            XCTAssertEqual(eps[i], min(snr[i], 5) / snr[i], accuracy: 1e-6)
            XCTAssertEqual(v[i], min(snr[i], 5) / (snr[i] + 1), accuracy: 1e-6)
            XCTAssertEqual(x0[i], min(snr[i], 5), accuracy: 1e-6)
        }
        XCTAssertEqual(eps[0], 5 / snr[0], accuracy: 1e-6)  // high SNR at t = 0 is clipped
        XCTAssertEqual(eps[2], 1, accuracy: 1e-6)  // low SNR keeps weight 1
        XCTAssertThrowsError(try s.minSNRWeights(timesteps: ts, gamma: 0, prediction: .epsilon))
    }

    /// With the exact velocity of a straight path, Euler on the flow ODE lands on x0 for any step count.
    func testFlowEulerRecoversDataWithExactVelocity() throws {
        let x0 = randomInput([2, 3, 4], seed: 5), noise = randomInput([2, 3, 4], seed: 6)
        let xMid = try RectifiedFlow.interpolate(x0, noise: noise, sigmas: [0.25, 0.75])
        assertClose(
            try xMid.slice(axis: 0, start: 0, end: 1),
            try 0.75 * x0.slice(axis: 0, start: 0, end: 1) + 0.25 * noise.slice(axis: 0, start: 0, end: 1))
        let v = try RectifiedFlow.target(x0, noise: noise)
        for shift: Float in [1, 3] {
            let sampler = try FlowEulerSampler(steps: 7, shift: shift)
            XCTAssertEqual(sampler.sigmas.first, 1)
            XCTAssertEqual(sampler.sigmas.last, 0)
            var x = noise * sampler.initNoiseSigma
            for i in 0..<sampler.stepCount { x = try sampler.step(modelOutput: v, stepIndex: i, sample: x, noise: nil) }
            assertClose(x, x0, atol: 1e-5)
        }
        XCTAssertThrowsError(try FlowEulerSampler(steps: 0))
    }

    func testSamplerErrorsNameTheProblem() throws {
        let s = try NoiseSchedule()
        XCTAssertThrowsError(try DDIMSampler(schedule: s, steps: 2000))
        XCTAssertThrowsError(try DDIMSampler(schedule: s, steps: 10, eta: 2))
        let ddim = try DDIMSampler(schedule: s, steps: 10, eta: 1)
        let x = randomInput([1, 4], seed: 1)
        XCTAssertThrowsError(try ddim.step(modelOutput: x, stepIndex: 0, sample: x, noise: nil)) { error in
            XCTAssertTrue("\(error)".contains("noise"), "\(error)")
        }
        XCTAssertThrowsError(try ddim.step(modelOutput: x, stepIndex: 10, sample: x, noise: x))
        let euler = try EulerDiscreteSampler(schedule: s, steps: 5)
        XCTAssertThrowsError(
            try euler.step(modelOutput: randomInput([1, 3], seed: 1), stepIndex: 0, sample: x, noise: nil))
    }
}

final class BlockShapeErrorTests: XCTestCase {
    func testBlocksRejectBadShapesInsteadOfCrashing() throws {
        var rng = RNG(seed: 1)
        let attn = try SpatialSelfAttention(channels: 8, headDim: 8, groups: 4, eps: 1e-6, rng: &rng)
        XCTAssertThrowsError(try attn(Tensor(zeros: [1, 8, 4])))
        let xf = try Transformer2DModel(channels: 8, heads: 2, crossAttentionDim: 6, groups: 4, rng: &rng)
        XCTAssertThrowsError(try xf(Tensor(zeros: [8, 4]), context: Tensor(zeros: [1, 3, 6])))
        let res = try ResnetBlock2D(inChannels: 8, outChannels: 8, tembChannels: 5, groups: 4, eps: 1e-5, rng: &rng)
        XCTAssertThrowsError(try res(Tensor(zeros: [1, 8, 4, 4]), temb: nil))
        XCTAssertThrowsError(try res(Tensor(zeros: [1, 8, 4, 4]), temb: Tensor(zeros: [5])))
        XCTAssertThrowsError(try res(Tensor(zeros: [8, 4, 4]), temb: Tensor(zeros: [1, 5])))
    }
}
