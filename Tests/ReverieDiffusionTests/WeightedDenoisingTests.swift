import ReverieCore
import ReverieDiffusion
import ReverieTestSupport
import XCTest

/// The denoising loss with a weight per latent pixel (the decoder stage's `loss.object_weight`).
final class WeightedDenoisingTests: XCTestCase {
    /// The loss of one item with `weights` [1, 1, 2, 2]; the same seed each time, so the noise, timestep and UNet
    /// output are the same and only the weighting differs.
    func loss(_ weights: [Float]?, shape: [Int] = [1, 1, 2, 2]) throws -> Float {
        var rng = RNG(seed: 11)
        let unet = try TrainingStepTests.tinyUNet(rng: &rng)
        var draw = RNG(seed: 12)
        return try denoisingLoss(
            unet: unet, objective: .ddpm(NoiseSchedule(), .sample),
            latents: randomInput([1, 2, 2, 2], seed: 4), conditions: randomInput([1, 3, 6], seed: 5),
            pixelWeights: try weights.map { try Tensor(shape: shape, data: $0) },
            rng: &draw
        ).item()
    }

    func testWeightsAreANormalisedMeanOverPixels() throws {
        // Lₚ: all weight on pixel p — that pixel's error averaged over channels.
        let single = try (0..<4).map { p in try loss((0..<4).map { $0 == p ? 1 : 0 }) }
        XCTAssertEqual(Set(single.map { ($0 * 1e5).rounded() }).count, 4)  // the pixels' errors differ
        // Uniform weights (any scale) give the plain mean = the mean of the Lₚ.
        let plain = try loss(nil)
        XCTAssertEqual(try loss([3, 3, 3, 3]), plain, accuracy: 1e-5 * plain)
        XCTAssertEqual(plain, single.reduce(0, +) / 4, accuracy: 1e-5 * plain)
        // Weights 3 and 1 on pixels 0 and 2: (3 L₀ + L₂) / 4.
        XCTAssertEqual(try loss([3, 0, 1, 0]), (3 * single[0] + single[2]) / 4, accuracy: 1e-5 * plain)
        // Weights per channel are not per pixel: refused, naming the shape.
        XCTAssertThrowsError(try loss(Array(repeating: 1, count: 8), shape: [1, 2, 2, 2])) { error in
            XCTAssertTrue("\(error)".contains("pixelWeights [1, 2, 2, 2]"), "\(error)")
        }
    }
}
