import ReverieCore
import ReverieDiffusion
import ReverieNN
import XCTest

@testable import ReverieMultimodal

final class DecoderReferenceTests: XCTestCase {
    func testDecoderIsFrozenAndDrawsPredictedConditions() throws {
        let base = try makeTinyModel()
        var rng = RNG(seed: 2)
        let model = try withTinyDecoder(base, rng: &rng)
        XCTAssertFalse(model.namedParameters().filter { $0.0.hasPrefix("decoder.") }.isEmpty)
        XCTAssertTrue(model.trainableParameters().filter { $0.0.hasPrefix("decoder.") }.isEmpty)
        let image = try model.generateImage(prompt: [5, 6, 7], imageSize: (8, 8), steps: 2, guidance: 2, seed: 1)
        XCTAssertEqual(image.shape, [1, 3, 8, 8])
        XCTAssertTrue(image.toArray().allSatisfy(\.isFinite))

        // a decoder conditioned on another width cannot take the encoder's features
        XCTAssertThrowsError(
            try MultimodalModel(
                config: base.config, visionEncoder: base.visionEncoder,
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
        let model = try withTinyDecoder(base, rng: &rng)
        let ex = MultimodalExample(
            tokens: [5, 6, TinyVocab.imageBegin], lossMask: [0, 0, 1],
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

extension DecoderReferenceTests {
    /// A decoder that takes a source latent gets the edit's source image from `generateImage`; text-to-image and
    /// the denoising loss give it zeros.
    func testEditsHandTheSourceLatentToTheDecoder() throws {
        let base = try makeTinyModel()
        var rng = RNG(seed: 6)
        let model = try withTinyDecoder(base, sourceLatents: true, rng: &rng)
        let decoder = try XCTUnwrap(model.decoder)
        let source = tinyImage(seed: 3)
        let prompt = [TinyVocab.image, 5, 6]
        let edited = try model.generateImage(
            prompt: prompt, images: [source], imageSize: (64, 64), steps: 2,
            guidance: 1, seed: 1)
        // The same conditions drawn with the source's latent by hand, and with zeros in its place.
        let conditions = try model.generateConditions(prompt: prompt, images: [source])
        let latent = try decoder.latents(images: source.unsqueeze(0))
        XCTAssertEqual(latent.shape, [1, 2, 32, 32])
        let byHand = try decoder.decode(
            conditions: conditions, imageSize: (64, 64), steps: 2, guidance: 1, seed: 1,
            sourceLatent: latent)
        let zeros = try decoder.decode(conditions: conditions, imageSize: (64, 64), steps: 2, guidance: 1, seed: 1)
        XCTAssertEqual(edited.toArray(), byHand.toArray())
        XCTAssertNotEqual(edited.toArray(), zeros.toArray())
        XCTAssertEqual(
            try model.generateImage(prompt: [5, 6], imageSize: (64, 64), steps: 2, guidance: 2, seed: 1).shape,
            [1, 3, 64, 64])
        // The denoising loss through it (zeros as the source).
        let ex = MultimodalExample(
            tokens: [5, 6, TinyVocab.imageBegin], lossMask: [0, 0, 1],
            targetImages: [tinyImage(seed: 8)])
        let losses = try model.losses([ex], config: MultimodalLossConfig(diffusionWeight: 1), rng: &rng)
        XCTAssertTrue(try losses.diffusion.item().isFinite)
        XCTAssertGreaterThan(try losses.diffusion.item(), 0)
    }
}

extension DecoderReferenceTests {
    /// Tuning the decoder on predicted conditions: with the UNet unfrozen the denoising loss reaches it; with
    /// `diffusionExactShare` 1 every image is conditioned on its exact target conditions — the loss equals the
    /// denoising loss on the encoder's features (same draws) and nothing reaches the LLM side.
    func testExactShareConditionsTheDenoisingTermOnTheTargetFeatures() throws {
        let base = try makeTinyModel()
        var rng = RNG(seed: 5)
        let model = try withTinyDecoder(base, rng: &rng)
        let decoder = try XCTUnwrap(model.decoder)
        _ = try decoder.unfreeze(prefix: "unet")
        let ex = MultimodalExample(
            tokens: [5, 6, TinyVocab.imageBegin], lossMask: [0, 0, 1],
            targetImages: [tinyImage(seed: 8)])
        var config = MultimodalLossConfig(ceWeight: 0, regressionWeight: 0, diffusionWeight: 1)
        config.diffusionExactShare = 1
        config.diffusionTimestepPower = 2
        var a = RNG(seed: 11), b = RNG(seed: 11)
        let losses = try model.losses([ex], config: config, rng: &a)
        try losses.total.backward()
        XCTAssertTrue(model.outputHead.parameters().allSatisfy { $0.grad?.toArray().allSatisfy { $0 == 0 } ?? true })
        XCTAssertGreaterThan(try XCTUnwrap(decoder.unet.parameters().first?.grad).toArray().map(abs).max() ?? 0, 0)
        _ = b.uniform()  // the per-image draw of the mix
        let pixels = try stack(ex.targetImages, axis: 0)
        let exact = try model.diffusionLoss(
            predicted: model.targetConditions(images: pixels), targetImages: pixels,
            timestepPower: 2, rng: &b)
        XCTAssertEqual(try losses.diffusion.item(), try exact.item(), accuracy: 1e-6)
        // Share 0: the prediction conditions it and the head gets a gradient.
        config.diffusionExactShare = 0
        model.zeroGrad()
        try model.losses([ex], config: config, rng: &rng).total.backward()
        XCTAssertGreaterThan(try XCTUnwrap(model.outputHead.parameters().first?.grad).toArray().map(abs).max() ?? 0, 0)
    }

    func testMixConditionsPicksWholeItems() throws {
        let p = try Tensor(shape: [4, 1, 2], data: [1, 1, 2, 2, 3, 3, 4, 4])
        let e = try Tensor(shape: [4, 1, 2], data: [-1, -1, -2, -2, -3, -3, -4, -4])
        var rng = RNG(seed: 3)
        let picks = (0..<4).map { _ in rng.uniform() < 0.5 }
        rng = RNG(seed: 3)
        let m = try mixConditions(p, exact: e, share: 0.5, rng: &rng).toArray()
        for i in 0..<4 {
            XCTAssertEqual(
                Array(m[2 * i..<2 * i + 2]),
                picks[i]
                    ? [Float(-(i + 1)), Float(-(i + 1))]
                    : [Float(i + 1), Float(i + 1)])
        }
        XCTAssertTrue(picks.contains(true) && picks.contains(false), "seed 3 should pick both kinds")
    }
}
