import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieMultimodal

final class MultimodalLossTests: XCTestCase {
    func testRegressionLossesAgainstHandValues() throws {
        let p = try Tensor(shape: [1, 2, 2], data: [1, 0, 0, 2])
        let t = try Tensor(shape: [1, 2, 2], data: [0, 0, 0, 0.5])
        // d = [1, 0, 0, 1.5]
        XCTAssertEqual(try regressionLoss(p, t, kind: .mse).item(), (1 + 2.25) / 4, accuracy: 1e-6)
        // smooth L1, β = 1: [0.5, 0, 0, 1.0] → mean 0.375
        XCTAssertEqual(try regressionLoss(p, t, kind: .smoothL1).item(), 0.375, accuracy: 1e-6)
        // β = 2: 0.5·d²/2 = [0.25, 0, 0, 0.5625] → mean 0.203125
        XCTAssertEqual(try regressionLoss(p, t, kind: .smoothL1, smoothL1Beta: 2).item(), 0.203125, accuracy: 1e-6)
        // cosine: token 0 is orthogonal (cos 0, loss 1), token 1 parallel (loss 0) → 0.5
        let q = try Tensor(shape: [1, 2, 2], data: [0, 1, 0, 3])
        XCTAssertEqual(try regressionLoss(p, q, kind: .cosine).item(), 0.5, accuracy: 1e-6)
        XCTAssertThrowsError(try regressionLoss(p, Tensor(zeros: [2, 2]), kind: .mse))
    }

    func testCrossEntropyCoversMaskedTextPositionsOnly() throws {
        let model = try makeTinyModel()
        let ex = MultimodalExample(
            tokens: [TinyVocab.image, 5, 6, 7], lossMask: [0, 0, 1, 0],
            inputImages: [tinyImage(seed: 2)])
        let losses = try model.losses([ex], config: MultimodalLossConfig(regressionWeight: 0))
        XCTAssertEqual(losses.textTargets, 1)
        XCTAssertEqual(losses.outputImages, 0)
        // only token 6 is a target, predicted from the position of token 5 (16 visual tokens, then 5 at index 16)
        let out = try model.forward(ex)
        let row = try XCTUnwrap(out.logits).slice(axis: 1, start: 16, end: 17).reshape([1, 40])
        XCTAssertEqual(try losses.crossEntropy.item(), try crossEntropy(row, targets: [6]).item(), accuracy: 1e-5)
        XCTAssertEqual(try losses.total.item(), try losses.crossEntropy.item(), accuracy: 1e-6)
        XCTAssertThrowsError(try model.losses([]))
    }

    func testWeightedSumAndFrozenEncoderGetsNoUpdate() throws {
        let model = try makeTinyModel()
        XCTAssertGreaterThan(try model.freeze(prefix: "vision_encoder"), 0)
        let caption = MultimodalExample(
            tokens: [TinyVocab.image, 5, 6, TinyVocab.eos], lossMask: [0, 1, 1, 1],
            inputImages: [tinyImage(seed: 4)])
        let t2i = MultimodalExample(
            tokens: [7, 8, TinyVocab.imageBegin], lossMask: [0, 0, 1],
            targetImages: [tinyImage(seed: 5)])
        let config = MultimodalLossConfig(ceWeight: 0.5, regressionWeight: 2, regression: .smoothL1)
        let losses = try model.losses([caption, t2i], config: config)
        XCTAssertEqual(losses.textTargets, 4)
        XCTAssertEqual(losses.outputImages, 1)
        let expected = try 0.5 * losses.crossEntropy.item() + 2 * losses.regression.item()
        XCTAssertEqual(try losses.total.item(), expected, accuracy: 1e-5)
        XCTAssertGreaterThan(try losses.regression.item(), 0)

        let encoderBefore = model.visionEncoder.namedParameters().map { ($0.0, $0.1.toArray()) }
        let trainableBefore = model.trainableParameters().map { $0.1.toArray() }
        let optimizer = try AdamW(parameters: model.namedParameters(), lr: 1e-2)
        optimizer.zeroGrad()
        try losses.total.backward()
        for (key, p) in model.visionEncoder.namedParameters() {
            XCTAssertNil(p.grad, "frozen \(key) got a gradient")
        }
        for prefix in ["projector.", "llm.", "output_queries", "output_head."] {
            let grads = model.trainableParameters().filter { $0.0.hasPrefix(prefix) }.compactMap { $0.1.grad }
            XCTAssertFalse(grads.isEmpty, prefix)
            let norm = grads.map { $0.toArray().map { $0 * $0 }.reduce(0, +) }.reduce(0, +)
            XCTAssertGreaterThan(norm, 0, "no gradient reaches \(prefix)")
        }
        optimizer.step()
        for ((key, before), (_, p)) in zip(encoderBefore, model.visionEncoder.namedParameters()) {
            XCTAssertEqual(before.map(\.bitPattern), p.toArray().map(\.bitPattern), "frozen \(key) changed")
        }
        let changed = zip(trainableBefore, model.trainableParameters()).filter { $0.0 != $0.1.1.toArray() }.count
        XCTAssertGreaterThan(changed, 0)
    }
}
