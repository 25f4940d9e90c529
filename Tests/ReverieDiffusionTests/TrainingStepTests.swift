import ReverieCore
import ReverieDiffusion
import ReverieNN
import ReverieTestSupport
import XCTest

final class TrainingStepTests: XCTestCase {
    static func tinyUNet(inChannels: Int = 2, rng: inout RNG) throws -> UNet2DConditionModel {
        try UNet2DConditionModel(
            config: UNet2DConditionConfig(
                inChannels: inChannels, outChannels: 2, blockOutChannels: [8, 16], layersPerBlock: 1,
                downBlockTypes: ["CrossAttnDownBlock2D", "DownBlock2D"],
                upBlockTypes: ["UpBlock2D", "CrossAttnUpBlock2D"],
                crossAttentionDim: 6, heads: [2, 2], normNumGroups: 4), rng: &rng)
    }

    /// Frozen means no update, not no gradient (docs/DESIGN.md §3): the denoising loss reaches the conditions through
    /// the frozen UNet, and an AdamW step that holds the UNet's parameters leaves them bit-identical.
    func testGradientsReachConditionsThroughFrozenUNet() throws {
        var rng = RNG(seed: 3)
        let unet = try Self.tinyUNet(rng: &rng)
        XCTAssertGreaterThan(try unet.freeze(), 0)
        let conditions = Tensor.randn([2, 3, 6], rng: &rng, requiresGrad: true)
        let latents = Tensor.randn([2, 2, 4, 4], rng: &rng)
        let before = unet.namedParameters().map { ($0.0, $0.1.toArray()) }
        let opt = try AdamW(parameters: [("conditions", conditions)] + unet.namedParameters(), lr: 1e-2)
        let c0 = conditions.toArray()
        try denoiserTrainingStep(
            unet: unet, optimizer: opt, objective: .ddpm(NoiseSchedule(), .epsilon),
            latents: latents, conditions: conditions, rng: &rng)
        let grad = try XCTUnwrap(conditions.grad).toArray()
        XCTAssertGreaterThan(grad.map(abs).max() ?? 0, 0, "no gradient reached the conditions")
        XCTAssertNotEqual(conditions.toArray(), c0, "the conditions did not move")
        for ((key, old), (_, p)) in zip(before, unet.namedParameters()) {
            XCTAssertNil(p.grad, "\(key) got a gradient")
            XCTAssertEqual(p.toArray().map(\.bitPattern), old.map(\.bitPattern), "\(key) changed")
        }
    }

    /// The denoiser overfits a fixed batch (same timesteps and noise every step) under each objective.
    func testDenoiserLossFallsFiveFold() throws {
        var rng = RNG(seed: 11)
        let latents = Tensor.randn([4, 2, 4, 4], rng: &rng)
        let sources = Tensor.randn([4, 2, 4, 4], rng: &rng)
        let conditions = Tensor.randn([4, 3, 6], rng: &rng)
        let objectives: [(String, DenoisingObjective, Tensor?)] = [
            (
                "ddpm-v-minsnr",
                .ddpm(
                    try NoiseSchedule(betaSchedule: .scaledLinear, betaStart: 0.00085, betaEnd: 0.012),
                    .vPrediction, minSNRGamma: 5), nil
            ),
            ("flow-with-source-and-dropout", .rectifiedFlow(), sources),
        ]
        for (name, objective, source) in objectives {
            var initRNG = RNG(seed: 5)
            let unet = try Self.tinyUNet(inChannels: source == nil ? 2 : 4, rng: &initRNG)
            let null = try NullCondition(kind: .learned, tokens: 3, dim: 6)
            let opt = try AdamW(
                parameters: unet.namedParameters() + null.namedParameters(), lr: 3e-3,
                weightDecay: 0)
            var losses: [Float] = []
            for _ in 0..<40 {
                var batchRNG = RNG(seed: 99)
                losses.append(
                    try denoiserTrainingStep(
                        unet: unet, optimizer: opt, objective: objective,
                        latents: latents, conditions: conditions, sourceLatents: source,
                        conditionDropout: source == nil ? nil : (null, 0.1),
                        rng: &batchRNG))
            }
            let last = losses.suffix(5).reduce(0, +) / 5
            print("denoiser \(name): loss \(losses[0]) → \(last)")
            XCTAssertLessThan(last * 5, losses[0], "\(name): loss \(losses[0]) → \(last)")
        }
    }

    func testVAELossFallsFiveFold() throws {
        var rng = RNG(seed: 21)
        let vae = try AutoencoderKL(
            config: AutoencoderKLConfig(
                blockOutChannels: [8, 16], layersPerBlock: 1, latentChannels: 2, normNumGroups: 4), rng: &rng)
        // Four smooth 8×8 images: gradients in different directions and colours.
        var pixels: [Float] = []
        for i in 0..<4 {
            for c in 0..<3 {
                for y in 0..<8 {
                    for x in 0..<8 {
                        let u = Float(x) / 7, v = Float(y) / 7
                        pixels.append([u, v, 1 - u, (u + v) / 2][i] * Float(c + 1) / 3 - 0.5)
                    }
                }
            }
        }
        let images = try Tensor(shape: [4, 3, 8, 8], data: pixels)
        let opt = try AdamW(parameters: vae.namedParameters(), lr: 3e-3, weightDecay: 0)
        var losses: [Float] = []
        for _ in 0..<60 {
            losses.append(
                try vaeTrainingStep(
                    vae: vae, optimizer: opt, images: images, klWeight: 1e-4,
                    rng: &rng
                ).reconstruction)
        }
        let last = losses.suffix(5).reduce(0, +) / 5
        print("VAE reconstruction loss \(losses[0]) → \(last)")
        XCTAssertLessThan(last * 5, losses[0], "loss \(losses[0]) → \(last)")
    }
}

final class UNetFLOPsTests: XCTestCase {
    /// A hand count for the tiny UNet at 4×4 latents, 3 tokens, batch 1.
    func testForwardFLOPsMatchAHandCount() throws {
        var rng = RNG(seed: 1)
        let unet = try TrainingStepTests.tinyUNet(rng: &rng)
        func conv(_ cout: Int, _ cin: Int, _ k: Int, _ hw: Int) -> Double { 2 * Double(cout * cin * k * k * hw) }
        func lin(_ o: Int, _ i: Int, _ rows: Int) -> Double { 2 * Double(o * i * rows) }
        func res(_ cin: Int, _ cout: Int, _ hw: Int) -> Double {
            conv(cout, cin, 3, hw) + conv(cout, cout, 3, hw) + (cin == cout ? 0 : conv(cout, cin, 1, hw))
                + lin(cout, 32, 1)
        }
        func xf(_ c: Int, _ t: Int) -> Double {
            2 * conv(c, c, 1, t) + 4 * lin(c, c, t) + 4 * Double(c * t * t)
                + 2 * lin(c, c, t) + 2 * lin(c, 6, 3) + 4 * Double(c * t * 3) + lin(8 * c, c, t) + lin(c, 4 * c, t)
        }
        var expected = conv(8, 2, 3, 16) + lin(32, 8, 1) + lin(32, 32, 1)
        expected += res(8, 8, 16) + xf(8, 16) + conv(8, 8, 3, 4)  // down 0 at 4×4, downsample to 2×2
        expected += res(8, 16, 4)  // down 1 at 2×2
        expected += 2 * res(16, 16, 4) + xf(16, 4)  // mid
        expected += res(32, 16, 4) + res(24, 16, 4) + conv(16, 16, 3, 16)  // up 0 (skips 16, 8), upsample
        expected += res(24, 8, 16) + xf(8, 16) + res(16, 8, 16) + xf(8, 16)  // up 1 (skips 8, 8)
        expected += conv(2, 8, 3, 16)
        XCTAssertEqual(unet.forwardFLOPs(batch: 1, height: 4, width: 4, tokens: 3), expected)
        XCTAssertEqual(unet.forwardFLOPs(batch: 3, height: 4, width: 4, tokens: 3), 3 * expected)
    }
}
