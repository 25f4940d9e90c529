import ReverieCore
import ReverieDiffusion
import ReverieNN
import ReverieTestSupport
import XCTest

/// Conditions laid on the latent grid as extra UNet input channels.
final class SpatialConditionsTests: XCTestCase {
    func testMapPlacesEachTokenOnItsCell() throws {
        // 4 tokens (2 × 2 grid, row-major) of width 3 → [1, 3, 4, 4]; token t's values fill its 2 × 2 cell.
        let c = try Tensor(shape: [1, 4, 3], data: (0..<12).map(Float.init))
        let m = try spatialConditionMap(c, size: (4, 4))
        XCTAssertEqual(m.shape, [1, 3, 4, 4])
        let v = m.toArray()
        for d in 0..<3 {
            for y in 0..<4 {
                for x in 0..<4 {
                    let token = (y / 2) * 2 + x / 2
                    XCTAssertEqual(v[d * 16 + y * 4 + x], Float(token * 3 + d))
                }
            }
        }
        XCTAssertThrowsError(try spatialConditionMap(try Tensor(zeros: [1, 3, 2]), size: (4, 4)))
        XCTAssertThrowsError(try spatialConditionMap(c, size: (5, 5)))
    }

    func testDecoderWithSpatialConditionsGuidesAndDiffersByCondition() throws {
        var rng = RNG(seed: 5)
        let vae = try AutoencoderKL(
            config: AutoencoderKLConfig(
                blockOutChannels: [8, 16], layersPerBlock: 1, latentChannels: 2, normNumGroups: 4), rng: &rng)
        let unet = try TrainingStepTests.tinyUNet(inChannels: 2 + 6, rng: &rng)
        let decoder = try LatentDiffusionDecoder(
            vae: vae, unet: unet,
            nullCondition: NullCondition(kind: .learned, tokens: 4, dim: 6),
            schedule: NoiseSchedule(), prediction: .sample,
            spatialConditions: true)
        let a = randomInput([1, 4, 6], seed: 1), b = randomInput([1, 4, 6], seed: 2)
        let x = try decoder.denoise(conditions: a, latentSize: (4, 4), steps: 3, guidance: 2, seed: 1)
        let y = try decoder.denoise(conditions: b, latentSize: (4, 4), steps: 3, guidance: 2, seed: 1)
        XCTAssertEqual(x.shape, [1, 2, 4, 4])
        XCTAssertNotEqual(x.toArray(), y.toArray())
        // The unguided path takes the same channels.
        XCTAssertEqual(
            try decoder.denoise(conditions: a, latentSize: (4, 4), steps: 2, guidance: 1, seed: 1).shape,
            [1, 2, 4, 4])
        // Training: gradients reach the conditions through the spatial channels of a frozen UNet.
        _ = try unet.freeze()
        let conditions = randomInput([2, 4, 6], seed: 3)
        let loss = try denoisingLoss(
            unet: unet, objective: .ddpm(decoder.schedule, .sample),
            latents: randomInput([2, 2, 4, 4], seed: 4), conditions: conditions,
            spatialConditions: true, rng: &rng)
        try loss.backward()
        XCTAssertGreaterThan(try XCTUnwrap(conditions.grad).toArray().map(abs).max() ?? 0, 0)
    }
}
