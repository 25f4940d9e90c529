import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieMultimodal

final class AutoregressiveModeTests: XCTestCase {
    func testTeacherForcedSequenceAndCachedGeneration() throws {
        let model = try makeTinyModel(mode: .autoregressive)
        XCTAssertNil(model.outputQueries)
        XCTAssertNotNil(model.conditionInput)
        let target = tinyImage(seed: 6)
        let ex = MultimodalExample(
            tokens: [5, 6, TinyVocab.imageBegin, 7], lossMask: [0, 0, 1, 1],
            targetImages: [target])
        let out = try model.forward(ex)
        // 4 tokens + K − 1 = 3 fed conditions after <img>
        XCTAssertEqual(try XCTUnwrap(out.logits).shape, [1, 7, 40])
        XCTAssertEqual(out.outputStarts, [2])
        XCTAssertEqual(out.conditions?.shape, [1, 4, 32])
        XCTAssertEqual(out.targets, [-100, TinyVocab.imageBegin, -100, -100, -100, 7, -100])
        // without its target image the teacher-forced sequence cannot be built
        XCTAssertThrowsError(
            try model.forward(MultimodalExample(tokens: [5, TinyVocab.imageBegin], lossMask: [0, 1])))

        // generation's first condition depends on the prompt only, so it equals the teacher-forced one; the cached
        // loop equals an uncached forward that feeds the generated conditions back
        let generated = try model.generateConditions(prompt: [5, 6])  // [1, 4, 32]
        XCTAssertEqual(generated.shape, [1, 4, 32])
        let conditions = try XCTUnwrap(out.conditions)
        assertClose(
            try generated.slice(axis: 1, start: 0, end: 1), try conditions.slice(axis: 1, start: 0, end: 1),
            atol: 1e-5)
        let llm = model.llm
        let input = try XCTUnwrap(model.conditionInput)
        let x = try concat(
            [
                llm.embed(ids: [5, 6, TinyVocab.imageBegin], shape: [1, 3]),
                input(generated.slice(axis: 1, start: 0, end: 3)),
            ], axis: 1)  // [1, 6, D]
        let h = try llm(inputEmbeddings: x).lastHiddenState.slice(axis: 1, start: 2, end: 6)
        assertClose(try model.outputHead(h), generated, atol: 1e-4)
    }

    func testAutoregressiveRegressionFalls() throws {
        let model = try makeTinyModel(head: .linear, mode: .autoregressive)
        _ = try model.freeze(prefix: "vision_encoder")
        let examples = (0..<3).map { i in
            MultimodalExample(
                tokens: [5 + i, 9, TinyVocab.imageBegin], lossMask: [0, 0, 1],
                targetImages: [tinyImage(seed: UInt64(20 + i))])
        }
        let optimizer = try AdamW(parameters: model.namedParameters(), lr: 3e-3, weightDecay: 0)
        var first: Float?, last: Float = 0
        for _ in 0..<30 {
            optimizer.zeroGrad()
            let losses = try model.losses(examples)
            try losses.total.backward()
            optimizer.step()
            last = try losses.regression.item()
            if first == nil { first = last }
        }
        XCTAssertLessThan(last * 5, try XCTUnwrap(first))
    }
}
