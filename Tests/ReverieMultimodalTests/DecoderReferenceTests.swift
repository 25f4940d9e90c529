import ReverieCore
import ReverieDiffusion
import ReverieNN
import XCTest
@testable import ReverieMultimodal

final class DecoderReferenceTests: XCTestCase {
    func tinyDecoder(conditionDim: Int) throws -> LatentDiffusionDecoder {
        var rng = RNG(seed: 9)
        let vae = try AutoencoderKL(config: AutoencoderKLConfig(
            blockOutChannels: [8, 16], layersPerBlock: 1, latentChannels: 2, normNumGroups: 4), rng: &rng)
        let unet = try UNet2DConditionModel(config: UNet2DConditionConfig(
            inChannels: 2, outChannels: 2, blockOutChannels: [8, 16], layersPerBlock: 1,
            downBlockTypes: ["CrossAttnDownBlock2D", "DownBlock2D"], upBlockTypes: ["UpBlock2D", "CrossAttnUpBlock2D"],
            crossAttentionDim: conditionDim, heads: [2, 2], normNumGroups: 4), rng: &rng)
        return try LatentDiffusionDecoder(vae: vae, unet: unet,
                                          nullCondition: NullCondition(kind: .zeros, tokens: 4, dim: conditionDim),
                                          schedule: NoiseSchedule())
    }

    func testDecoderIsFrozenAndDrawsPredictedConditions() throws {
        let base = try makeTinyModel()
        var rng = RNG(seed: 2)
        let model = try MultimodalModel(config: base.config, visionEncoder: base.visionEncoder,
                                        projector: base.projector, llm: base.llm,
                                        decoder: tinyDecoder(conditionDim: 32), rng: &rng)
        XCTAssertFalse(model.namedParameters().filter { $0.0.hasPrefix("decoder.") }.isEmpty)
        XCTAssertTrue(model.trainableParameters().filter { $0.0.hasPrefix("decoder.") }.isEmpty)
        let image = try model.generateImage(prompt: [5, 6, 7], imageSize: (8, 8), steps: 2, guidance: 2, seed: 1)
        XCTAssertEqual(image.shape, [1, 3, 8, 8])
        XCTAssertTrue(image.toArray().allSatisfy(\.isFinite))

        // a decoder conditioned on another width cannot take the encoder's features
        XCTAssertThrowsError(try MultimodalModel(config: base.config, visionEncoder: base.visionEncoder,
                                                 projector: base.projector, llm: base.llm,
                                                 decoder: tinyDecoder(conditionDim: 6), rng: &rng))
        XCTAssertThrowsError(try base.generateImage(prompt: [5], imageSize: (8, 8), steps: 2, guidance: 2, seed: 1))
    }
}

extension DecoderReferenceTests {
    /// Frozen means no update, not no gradient: the denoising loss reaches the head through the frozen UNet,
    /// and an AdamW step leaves the decoder bit-identical.
    func testDenoisingLossFlowsThroughTheFrozenDecoder() throws {
        let base = try makeTinyModel()
        var rng = RNG(seed: 4)
        let model = try MultimodalModel(config: base.config, visionEncoder: base.visionEncoder,
                                        projector: base.projector, llm: base.llm,
                                        decoder: tinyDecoder(conditionDim: 32), rng: &rng)
        let ex = MultimodalExample(tokens: [5, 6, TinyVocab.imageBegin], lossMask: [0, 0, 1],
                                   targetImages: [tinyImage(seed: 8)])
        let config = MultimodalLossConfig(ceWeight: 0, regressionWeight: 0, diffusionWeight: 1)
        XCTAssertThrowsError(try model.losses([ex], config: config))
        XCTAssertThrowsError(try base.losses([ex], config: config, rng: &rng))
        let losses = try model.losses([ex], config: config, rng: &rng)
        XCTAssertGreaterThan(try losses.diffusion.item(), 0)
        XCTAssertEqual(try losses.total.item(), try losses.diffusion.item(), accuracy: 1e-6)
        let decoder = try XCTUnwrap(model.decoder)
        let decoderBefore = decoder.namedParameters().map { $0.1.toArray() }
        let optimizer = try AdamW(parameters: model.namedParameters(), lr: 1e-2)
        optimizer.zeroGrad()
        try losses.total.backward()
        let headGrad = try XCTUnwrap(model.outputHead.parameters().first?.grad).toArray()
        XCTAssertGreaterThan(headGrad.map(abs).max() ?? 0, 0)
        XCTAssertTrue(decoder.parameters().allSatisfy { $0.grad == nil })
        optimizer.step()
        for (before, p) in zip(decoderBefore, decoder.parameters()) {
            XCTAssertEqual(before.map(\.bitPattern), p.toArray().map(\.bitPattern))
        }
    }
}
