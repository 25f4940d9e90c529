import ReverieCore
import ReverieDiffusion
import ReverieNN
import ReverieTestSupport
import XCTest

final class GuidanceAndDecoderTests: XCTestCase {
    func tinyDecoder(null: NullConditionKind, sourceChannels: Int = 0, seed: UInt64 = 7) throws
        -> LatentDiffusionDecoder
    {
        var rng = RNG(seed: seed)
        let vae = try AutoencoderKL(
            config: AutoencoderKLConfig(
                blockOutChannels: [8, 16], layersPerBlock: 1, latentChannels: 2, normNumGroups: 4), rng: &rng)
        let unet = try TrainingStepTests.tinyUNet(inChannels: 2 + sourceChannels, rng: &rng)
        return try LatentDiffusionDecoder(
            vae: vae, unet: unet,
            nullCondition: NullCondition(kind: null, tokens: 3, dim: 6),
            schedule: NoiseSchedule())
    }

    func testGuidanceFormula() throws {
        let u = randomInput([2, 3], seed: 1), c = randomInput([2, 3], seed: 2)
        assertClose(try classifierFreeGuidance(uncond: u, cond: c, scale: 1), c)
        assertClose(try classifierFreeGuidance(uncond: u, cond: c, scale: 0), u)
        assertClose(try classifierFreeGuidance(uncond: u, cond: c, scale: 3), try c * 3 - u * 2, atol: 1e-5)
    }

    func testConditionDropout() throws {
        let null = try NullCondition(kind: .learned, tokens: 3, dim: 6)
        XCTAssertEqual(null.namedParameters().map(\.0), ["null_condition"])
        XCTAssertTrue(try NullCondition(kind: .zeros, tokens: 3, dim: 6).namedParameters().isEmpty)
        null.embedding!.mutableBuffer.initialize(repeating: 0.5)
        let conds = randomInput([4, 3, 6], seed: 3)
        var rng = RNG(seed: 1)
        assertClose(try null.dropout(conds, p: 0, rng: &rng), conds)
        assertClose(try null.dropout(conds, p: 1, rng: &rng), Tensor(repeating: 0.5, shape: [4, 3, 6]))
        // Gradients reach the learned null through dropped items.
        let dropped = try null.dropout(conds, p: 1, rng: &rng)
        try dropped.sum().backward()
        XCTAssertEqual(null.embedding!.grad!.toArray(), Array(repeating: 4, count: 18))
        XCTAssertThrowsError(try null.dropout(conds, p: 1.5, rng: &rng))
        XCTAssertThrowsError(try null.dropout(randomInput([4, 2, 6], seed: 1), p: 0.1, rng: &rng))
    }

    func testDecodeIsDeterministicAndGuidanceOneIsConditional() throws {
        let decoder = try tinyDecoder(null: .learned)
        let conds = randomInput([2, 3, 6], seed: 4)
        for sampler: any SamplerConfig in [
            DDIMSampler.Config(), DDIMSampler.Config(eta: 0.5), EulerDiscreteSampler.Config(),
            FlowEulerSampler.Config(shift: 1),
        ] {
            let a = try decoder.decode(
                conditions: conds, imageSize: (8, 8), steps: 3, guidance: 2.5, sampler: sampler,
                seed: 9)
            let b = try decoder.decode(
                conditions: conds, imageSize: (8, 8), steps: 3, guidance: 2.5, sampler: sampler,
                seed: 9)
            XCTAssertEqual(a.shape, [2, 3, 8, 8])
            XCTAssertEqual(a.toArray(), b.toArray(), "\(sampler) is not deterministic for a seed")
            XCTAssertTrue(a.toArray().allSatisfy(\.isFinite))
        }
        // Guidance changes the result; scale 1 needs no unconditional pass and ignores the null condition.
        let g1 = try decoder.decode(conditions: conds, imageSize: (8, 8), steps: 2, guidance: 1, seed: 1)
        let g3 = try decoder.decode(conditions: conds, imageSize: (8, 8), steps: 2, guidance: 3, seed: 1)
        XCTAssertGreaterThan(maxAbsDiff(g1.toArray(), g3.toArray()), 0)
        XCTAssertThrowsError(try decoder.decode(conditions: conds, imageSize: (7, 8), steps: 2, guidance: 1, seed: 1))
    }

    func testSourceLatentConditionsTheDecoder() throws {
        let decoder = try tinyDecoder(null: .zeros, sourceChannels: 2)
        let conds = randomInput([1, 3, 6], seed: 4)
        let s1 = randomInput([1, 2, 4, 4], seed: 5), s2 = randomInput([1, 2, 4, 4], seed: 6)
        let a = try decoder.decode(
            conditions: conds, imageSize: (8, 8), steps: 2, guidance: 2, seed: 3,
            sourceLatent: s1)
        let b = try decoder.decode(
            conditions: conds, imageSize: (8, 8), steps: 2, guidance: 2, seed: 3,
            sourceLatent: s2)
        XCTAssertGreaterThan(maxAbsDiff(a.toArray(), b.toArray()), 0)
        XCTAssertThrowsError(try decoder.decode(conditions: conds, imageSize: (8, 8), steps: 2, guidance: 2, seed: 3))
    }

    /// Through the whole frozen sampling loop and VAE decoder, a pixel loss reaches the conditions.
    func testFrozenDecoderPassesGradientsToConditions() throws {
        let decoder = try tinyDecoder(null: .learned)
        XCTAssertGreaterThan(try decoder.freeze(), 0)
        var rng = RNG(seed: 42)
        let conds = Tensor.randn([1, 3, 6], rng: &rng, requiresGrad: true)
        let z = try decoder.denoise(conditions: conds, latentSize: (4, 4), steps: 2, guidance: 2, seed: 1)
        let image = try decoder.vae.decodeLatents(z)
        try image.square().mean().backward()
        XCTAssertGreaterThan(try XCTUnwrap(conds.grad).toArray().map(abs).max() ?? 0, 0)
        XCTAssertTrue(decoder.parameters().allSatisfy { $0.grad == nil })
    }
}
