import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieMultimodal

/// Edits that describe their result before drawing it (`MultimodalConfig.describeEdits`).
final class DescribedEditTests: XCTestCase {
    /// Trained on `<image> 7 · 11 12 13 <img>` (text targets: the description and `<img>`), the model writes the
    /// description after the instruction and draws with it in context: the same conditions as the same weights
    /// given the description in the prompt. The same weights without the option write nothing.
    func testAnEditWritesItsDescriptionThenDraws() throws {
        let model = try makeTinyModel(residual: true, describeEdits: true)
        let source = tinyImage(seed: 3)
        let edit = MultimodalExample(
            tokens: [TinyVocab.image, 7, 11, 12, 13, TinyVocab.imageBegin],
            lossMask: [0, 0, 1, 1, 1, 1], inputImages: [source],
            targetImages: [tinyImage(seed: 4)])
        let optimizer = try AdamW(parameters: model.trainableParameters(), lr: 1e-2, weightDecay: 0)
        for _ in 0..<40 {
            model.zeroGrad()
            try model.losses([edit], config: MultimodalLossConfig(regressionWeight: 0.1)).total.backward()
            optimizer.step()
        }
        XCTAssertEqual(try model.describeEdit(prompt: [TinyVocab.image, 7], images: [source]), [11, 12, 13])
        let plain = try makeTinyModel(residual: true)
        _ = try plain.loadStateDict(model.stateDict())
        XCTAssertEqual(try plain.describeEdit(prompt: [TinyVocab.image, 7], images: [source]), [])
        let described = try model.generateConditions(prompt: [TinyVocab.image, 7], images: [source])
        let given = try plain.generateConditions(prompt: [TinyVocab.image, 7, 11, 12, 13], images: [source])
        let unsaid = try plain.generateConditions(prompt: [TinyVocab.image, 7], images: [source])
        XCTAssertEqual(described.toArray(), given.toArray())
        XCTAssertGreaterThan(maxAbsDiff(described.toArray(), unsaid.toArray()), 0)
        // Text to image (no input image) writes nothing first.
        XCTAssertEqual(try model.describeEdit(prompt: [5], images: []), [])
    }
}
