import ReverieCore
import XCTest

@testable import ReverieMultimodal

/// `changeShortfall`: how far an edit's predicted change falls short of its target's along the target's direction.
final class ChangeShortfallTests: XCTestCase {
    // One image, K = 2 tokens of Dc = 2: token 0 changes from (0, 0) to (2, 0), token 1 stays at (1, 1).
    let r = try! Tensor(shape: [2, 2], data: [0, 0, 1, 1])
    let t = try! Tensor(shape: [1, 2, 2], data: [2, 0, 1, 1])

    func shortfall(_ p: [Float], references: [Tensor?]? = nil) throws -> Float {
        try changeShortfall(Tensor(shape: [1, 2, 2], data: p), t, references: references ?? [r]).item()
    }

    func testShortfallIsTheMissingShareOfTheChangeAlongItsDirection() throws {
        XCTAssertEqual(try shortfall([0, 0, 1, 1]), 1, accuracy: 1e-6)  // the source: nothing changed
        XCTAssertEqual(try shortfall([2, 0, 1, 1]), 0, accuracy: 1e-6)  // the target
        XCTAssertEqual(try shortfall([1, 5, 1, 1]), 0.5, accuracy: 1e-6)  // half-way along; sideways is free
        XCTAssertEqual(try shortfall([3, 0, 1, 1]), 0, accuracy: 1e-6)  // overshoot costs nothing here
        XCTAssertEqual(try shortfall([2, 0, 9, 9]), 0, accuracy: 1e-6)  // an unchanged token cannot fall short
        XCTAssertEqual(try shortfall([0, 0, 1, 1], references: [nil]), 0)  // text to image: no reference
        XCTAssertEqual(try shortfall([2, 0, 1, 1], references: [t.reshape([2, 2])]), 0)  // no change at all
        XCTAssertThrowsError(try changeShortfall(Tensor(zeros: [1, 2, 2]), Tensor(zeros: [1, 2, 3]), references: [r]))
    }

    func testGradientPullsShortTokensAlongTheirTargetChange() throws {
        let p = try Tensor(shape: [1, 2, 2], data: [0.5, 0, 1, 1], requiresGrad: true)
        let loss = try changeShortfall(p, t, references: [r])
        XCTAssertEqual(try loss.item(), 0.75, accuracy: 1e-6)  // (4 − 1) / 4
        try loss.backward()
        // ∂/∂p₀ = −Δt / Σ‖Δt‖² = (−0.5, 0); token 1 has no change to fall short of
        XCTAssertEqual(try XCTUnwrap(p.grad).toArray(), [-0.5, 0, 0, 0])
    }

    /// In a batch, only the outputs that follow a reference count: a text-to-image block beside the edit changes
    /// nothing.
    func testTextToImageOutputsAreLeftOut() throws {
        let p = try Tensor(shape: [2, 2, 2], data: [7, 7, 7, 7, 1, 5, 1, 1])
        let target = try Tensor(shape: [2, 2, 2], data: [0, 0, 0, 0, 2, 0, 1, 1])
        XCTAssertEqual(try changeShortfall(p, target, references: [nil, r]).item(), 0.5, accuracy: 1e-6)
    }

    /// The model's losses add the weighted shortfall of its edits to the total; a model without residual output
    /// (no source to fall short from) refuses the weight.
    func testLossesAddTheWeightedShortfall() throws {
        let model = try makeTinyModel(residual: true)
        let exs = [
            MultimodalExample(
                tokens: [5, 6, TinyVocab.imageBegin], lossMask: [0, 0, 1],
                targetImages: [tinyImage(seed: 2)]),
            MultimodalExample(
                tokens: [TinyVocab.image, 7, TinyVocab.imageBegin], lossMask: [0, 0, 1],
                inputImages: [tinyImage(seed: 3)], targetImages: [tinyImage(seed: 4)]),
        ]
        var config = MultimodalLossConfig(ceWeight: 1)
        let plain = try model.losses(exs, config: config)
        config.shortfallWeight = 2
        let weighted = try model.losses(exs, config: config)
        let source = try model.targetConditions(images: tinyImage(seed: 3).unsqueeze(0)).reshape([4, 32])
        let expected = try changeShortfall(
            XCTUnwrap(weighted.predictedConditions),
            XCTUnwrap(weighted.targetConditions), references: [nil, source]
        ).item()
        XCTAssertGreaterThan(expected, 0)
        XCTAssertEqual(try weighted.shortfall.item(), expected, accuracy: 1e-6)
        XCTAssertEqual(try weighted.total.item(), try plain.total.item() + 2 * expected, accuracy: 1e-4)
        XCTAssertEqual(try plain.shortfall.item(), 0)
        XCTAssertThrowsError(try makeTinyModel().losses(exs, config: config)) { e in
            guard case MultimodalError.invalidConfiguration(let key, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(key, "shortfall_weight")
        }
    }
}
