import ReverieCore
import ReverieNN
import ReverieProjectors
import ReverieTestSupport
import XCTest

@testable import ReverieMultimodal

final class MultimodalModelTests: XCTestCase {
    func testSequenceSplicesVisualTokensAndAppendsQueries() throws {
        let model = try makeTinyModel()
        let image = tinyImage(seed: 7)
        let tokens = [5, TinyVocab.image, 6, 7, TinyVocab.imageBegin, 8]
        let ex = MultimodalExample(tokens: tokens, lossMask: [0, 0, 0, 1, 1, 1], inputImages: [image])
        let out = try model.forward(ex)
        // 6 tokens, <image> → 16 visual tokens, <img> + 4 queries: L = 5 + 16 + 4 = 25
        XCTAssertEqual(try XCTUnwrap(out.logits).shape, [1, 25, 40])
        XCTAssertEqual(model.expandedLength(tokens: tokens), 25)
        XCTAssertEqual(out.outputStarts, [20])
        XCTAssertEqual(out.conditions?.shape, [1, 4, 32])
        var expected = Array(repeating: -100, count: 25)
        expected[17] = 7  // position of token 6 predicts 7
        expected[18] = TinyVocab.imageBegin
        expected[23] = 8  // the last query predicts the token after the block
        XCTAssertEqual(out.targets, expected)

        // the same forward by hand on the spliced embeddings
        let llm = model.llm
        let visual = try model.visualTokens(image.reshape([1, 3, 64, 64]))
        let queries = try XCTUnwrap(model.outputQueries).reshape([1, 4, 48])
        let x = try concat(
            [
                llm.embed(ids: [5], shape: [1, 1]), visual,
                llm.embed(ids: [6, 7, TinyVocab.imageBegin], shape: [1, 3]), queries,
                llm.embed(ids: [8], shape: [1, 1]),
            ], axis: 1)
        let ref = try llm(inputEmbeddings: x)
        assertClose(try XCTUnwrap(out.logits), ref.logits, atol: 1e-5)
        let head = try model.outputHead(ref.lastHiddenState.slice(axis: 1, start: 20, end: 24))
        assertClose(try XCTUnwrap(out.conditions), head, atol: 1e-5)
    }

    func testTargetConditionsAveragePoolThePatchGrid() throws {
        let model = try makeTinyModel()
        let image = try tinyImage(seed: 3).reshape([1, 3, 64, 64])
        let target = try model.targetConditions(images: image)
        XCTAssertEqual(target.shape, [1, 4, 32])
        let f = try model.visionEncoder(image * 2 - 1).lastHiddenState  // [1, 16, 32]
        // token 1 is the top-right 2 × 2 block of the 4 × 4 grid: patches 2, 3, 6, 7
        for d in 0..<32 {
            let mean = [2, 3, 6, 7].map { f[0, $0, d] }.reduce(0, +) / 4
            XCTAssertEqual(target[0, 1, d], mean, accuracy: 1e-5)
        }
        XCTAssertFalse(target.requiresGrad)
    }

    func testBadConfigurationsAndExamplesThrow() throws {
        let model = try makeTinyModel()
        // <image> without an image
        XCTAssertThrowsError(try model.forward(MultimodalExample(tokens: [TinyVocab.image, 5], lossMask: [0, 1])))
        // id outside the vocabulary
        XCTAssertThrowsError(try model.forward(MultimodalExample(tokens: [99], lossMask: [1])))
        // mask length
        XCTAssertThrowsError(try model.forward(MultimodalExample(tokens: [5, 6], lossMask: [1])))
        // <img> without a target image, when computing losses
        XCTAssertThrowsError(
            try model.losses([MultimodalExample(tokens: [5, TinyVocab.imageBegin], lossMask: [0, 1])]))
        // K not a square
        var rng = RNG(seed: 1)
        let cfg = MultimodalConfig(imageTokenId: 2, imageBeginTokenId: 3, numQueries: 3)
        XCTAssertThrowsError(
            try MultimodalModel(
                config: cfg, visionEncoder: model.visionEncoder,
                projector: model.projector, llm: model.llm, rng: &rng))
    }
}

final class MultimodalProjectorKindTests: XCTestCase {
    /// Every registered projector kind composes: Q visual tokens per `<image>`, one loss step without errors.
    func testEveryProjectorKindComposes() throws {
        for kind in ProjectorRegistry.kinds {
            let model = try makeTinyModel(projector: kind, head: .linear)
            let q = model.projector.outputTokens(patches: 16)
            let ex = MultimodalExample(
                tokens: [TinyVocab.image, 5, TinyVocab.imageBegin], lossMask: [0, 1, 1],
                inputImages: [tinyImage(seed: 1)], targetImages: [tinyImage(seed: 2)])
            let out = try model.forward(ex)
            XCTAssertEqual(try XCTUnwrap(out.logits).shape, [1, q + 2 + 4, 40], kind)
            XCTAssertEqual(model.expandedLength(tokens: ex.tokens), q + 2 + 4, kind)
            let losses = try model.losses([ex], config: MultimodalLossConfig(regression: .cosine))
            XCTAssertTrue(try losses.total.item().isFinite, kind)
            try losses.total.backward()
            XCTAssertNotNil(model.projector.trainableParameters().first?.1.grad, kind)
        }
    }
}
