import Foundation
import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieMultimodal

/// The change head: per output token, whether the image it writes differs from the one it follows; trained by binary
/// cross-entropy on `ChangeMask.labels`, read by edits to decide what to keep.
final class ChangeHeadTests: XCTestCase {
    private let source = tinyImage(seed: 3)

    /// `source` with one pixel of the bottom-left 32 × 32 patch changed by `delta` in the green channel.
    private func touched(_ delta: Float) -> Tensor {
        var p = source.toArray()
        let i = 64 * 64 + 40 * 64 + 7  // green, row 40, column 7
        p[i] += p[i] < 0.5 ? delta : -delta
        return try! Tensor(shape: [3, 64, 64], data: p)
    }

    func testLabelsMarkThePatchesThatChange() throws {
        XCTAssertEqual(try ChangeMask.labels(source: source, target: source, side: 2), [0, 0, 0, 0])
        XCTAssertEqual(try ChangeMask.labels(source: source, target: touched(0.5), side: 2), [0, 0, 1, 0])
        XCTAssertEqual(
            try ChangeMask.labels(source: source, target: touched(0.5), side: 4),
            (0..<16).map { $0 == 8 ? 1 : 0 })  // row 2 (pixels 32–47), column 0
        XCTAssertEqual(try ChangeMask.labels(source: source, target: touched(0.05), side: 2), [0, 0, 0, 0])
        XCTAssertThrowsError(try ChangeMask.labels(source: source, target: Tensor(zeros: [3, 32, 32]), side: 2))
        XCTAssertThrowsError(try ChangeMask.labels(source: source, target: source, side: 3))
    }

    func testBinaryCrossEntropyFromLogits() throws {
        let x = try Tensor(shape: [3], data: [0, 2, -30], requiresGrad: true)
        let y = try Tensor(shape: [3], data: [1, 0, 1])
        let loss = try binaryCrossEntropy(logits: x, targets: y)
        // −log σ(0) = ln 2, −log(1 − σ(2)) = ln(1 + e²), −log σ(−30) = 30 + ln(1 + e⁻³⁰)
        XCTAssertEqual(
            try loss.item(), Float((Foundation.log(2.0) + Foundation.log(1 + Foundation.exp(2.0)) + 30) / 3),
            accuracy: 1e-5)
        try loss.backward()
        let g = try XCTUnwrap(x.grad).toArray()  // (σ(x) − y) / 3
        XCTAssertEqual(g[0], -0.5 / 3, accuracy: 1e-6)
        XCTAssertEqual(g[1], Float(1 / (1 + Foundation.exp(-2.0)) / 3), accuracy: 1e-6)
        XCTAssertEqual(g[2], -1.0 / 3, accuracy: 1e-6)
        XCTAssertThrowsError(try binaryCrossEntropy(logits: x, targets: Tensor(zeros: [2])))
    }

    /// Only blocks that follow an image are labelled; a few steps of the loss teach the head where the edit was.
    func testTheHeadLearnsWhereAnEditChangesItsSource() throws {
        let model = try makeTinyModel(residual: true, changeHead: true)
        let head = try XCTUnwrap(model.changeHead)
        let edit = MultimodalExample(
            tokens: [TinyVocab.image, 7, TinyVocab.imageBegin], lossMask: [0, 0, 1],
            inputImages: [source], targetImages: [touched(0.5)])
        let textToImage = MultimodalExample(
            tokens: [5, TinyVocab.imageBegin], lossMask: [0, 1],
            targetImages: [source])
        var config = MultimodalLossConfig(ceWeight: 0, regressionWeight: 0)
        config.changeWeight = 1
        XCTAssertEqual(try model.losses([textToImage], config: config).change.item(), 0)
        let before = try model.losses([edit, textToImage], config: config).change.item()
        let optimizer = try AdamW(parameters: model.trainableParameters(), lr: 1e-2, weightDecay: 0)
        for _ in 0..<30 {
            model.zeroGrad()
            try model.losses([edit], config: config).total.backward()
            optimizer.step()
        }
        let after = try model.losses([edit], config: config).change.item()
        XCTAssertLessThan(after, before * 0.2, "change loss \(before) → \(after)")
        let (_, logits) = try model.generateOutput(prompt: [TinyVocab.image, 7], images: [source])
        XCTAssertEqual(try XCTUnwrap(logits).toArray().map { $0 > 0 }, [false, false, true, false])
        XCTAssertEqual(head.weight.shape, [1, 48])
        // Checkpoint keys.
        XCTAssertNotNil(try model.stateDict()["change_head.weight"])
        // Without the head the loss cannot be asked for.
        XCTAssertThrowsError(try makeTinyModel(residual: true).losses([edit], config: config))
    }

    /// By default a head's mask is the edit's footprint as it is, a threshold's grows by a token each way.
    func testGrowthDefaultsDependOnWhereTheMaskComesFrom() {
        var changed = [Bool](repeating: false, count: 16)
        changed[5] = true
        let automatic = SourceKeeping(threshold: 0.1)
        XCTAssertEqual(automatic.keepMask(changed: changed).filter { $0 == 0 }.count, 1)
        XCTAssertEqual(automatic.keepMask(change: changed.map { $0 ? 1 : 0 }, energy: 1).filter { $0 == 0 }.count, 9)
        XCTAssertEqual(SourceKeeping(threshold: 0.1, grow: 1).keepMask(changed: changed).filter { $0 == 0 }.count, 9)
        XCTAssertEqual(
            SourceKeeping(threshold: 0.1, grow: 0).keepMask(change: changed.map { $0 ? 1 : 0 }, energy: 1)
                .filter { $0 == 0 }.count, 1)
    }

    /// With logits, the keep mask follows the head, not the conditions.
    func testEditsKeepWhatTheHeadLeavesAlone() throws {
        var rng = RNG(seed: 2)
        let model = try withTinyDecoder(try makeTinyModel(changeHead: true), rng: &rng)
        let pixels = try source.unsqueeze(0)
        let own = try model.targetConditions(images: pixels)
        let keeping = SourceKeeping(threshold: 0.2, grow: 0)
        let region = try model.keptRegion(
            conditions: own, source: pixels, keeping: keeping,
            change: Tensor(shape: [1, 4], data: [-1, 3, -2, -5]))
        let mask = region.mask.toArray()  // 2 × 2 tokens over a 32 × 32 latent: token 1 is the top-right quarter
        XCTAssertEqual(mask.filter { $0 == 0 }.count, 256)
        XCTAssertEqual(mask[15], 1)
        XCTAssertEqual(mask[16], 0)
        XCTAssertEqual(mask[0], 1)
        XCTAssertThrowsError(
            try model.keptRegion(
                conditions: own, source: pixels, keeping: keeping,
                change: Tensor(zeros: [1, 3])))
        XCTAssertThrowsError(
            try MultimodalModel(
                config: {
                    var c = model.config
                    c.outputMode = .autoregressive
                    return c
                }(),
                visionEncoder: model.visionEncoder, projector: model.projector, llm: model.llm, rng: &rng)
        ) { error in
            XCTAssertTrue(String(describing: error).contains("change_head"), "\(error)")
        }
    }
}
