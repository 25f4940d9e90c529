import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieMultimodal

/// Source-informed queries: an output block that follows an image gets that image's conditions, through
/// `source_input`, added to its queries; a block that follows nothing gets the plain queries.
final class SourceQueriesTests: XCTestCase {
    private let source = tinyImage(seed: 3), first = tinyImage(seed: 4)

    /// An edit block (follows the input image) and a second block that follows the first output image.
    private var edit: MultimodalExample {
        MultimodalExample(
            tokens: [TinyVocab.image, 7, TinyVocab.imageBegin, 8, TinyVocab.imageBegin],
            lossMask: [0, 0, 1, 1, 1], inputImages: [source], targetImages: [first, source])
    }

    private var textToImage: MultimodalExample {
        MultimodalExample(tokens: [5, TinyVocab.imageBegin], lossMask: [0, 1], targetImages: [first])
    }

    func testStartsAsThePlainModelAndReadsTheSourceOnceTrained() throws {
        let model = try makeTinyModel(residual: true, sourceQueries: true)
        let plain = try makeTinyModel(residual: true)
        // Every other part is drawn first from the same generator, so the two models share them.
        _ = try plain.loadStateDict(model.stateDict(), strict: false)
        let input = try XCTUnwrap(model.sourceInput)
        XCTAssertEqual(input.parameters().flatMap { $0.toArray() }.filter { $0 != 0 }.count, 0)
        assertClose(
            try XCTUnwrap(model.forward(edit).conditions), try XCTUnwrap(plain.forward(edit).conditions),
            atol: 1e-6)

        var rng = RNG(seed: 11)
        for t in input.parameters() { Init.normal(t, std: 0.5, rng: &rng) }
        let changed = try XCTUnwrap(model.forward(edit).conditions),
            before = try XCTUnwrap(plain.forward(edit).conditions)
        for block in 0..<2 {  // both blocks follow an image, so both read it
            let a = try changed.slice(axis: 0, start: block, end: block + 1)
            let b = try before.slice(axis: 0, start: block, end: block + 1)
            XCTAssertGreaterThan(try ((a - b) * (a - b)).mean().item(), 1e-6, "block \(block)")
        }
        // The queries of a block are exactly the learned ones plus the Linear of the image's conditions.
        let bases = try model.targetConditions(images: concat([source.unsqueeze(0), first.unsqueeze(0)], axis: 0))
        let (x, _, starts) = try model.sequenceEmbeddings(
            edit, bases: [try bases.slice(axis: 0, start: 0, end: 1), nil])
        let queries = try x.slice(axis: 1, start: starts[0], end: starts[0] + 4)
        let expected = try XCTUnwrap(model.queryEmbeddings()) + input(bases.slice(axis: 0, start: 0, end: 1))
        assertClose(queries, expected, atol: 1e-6)
        let unread = try x.slice(axis: 1, start: starts[1], end: starts[1] + 4)
        assertClose(unread, try XCTUnwrap(model.queryEmbeddings()), atol: 0)
        // Text to image follows no image: unchanged.
        assertClose(
            try XCTUnwrap(model.forward(textToImage).conditions),
            try XCTUnwrap(plain.forward(textToImage).conditions), atol: 1e-6)
    }

    func testTheSourceInputLearnsFromEditsOnly() throws {
        let model = try makeTinyModel(residual: true, sourceQueries: true)
        let input = try XCTUnwrap(model.sourceInput)
        let config = MultimodalLossConfig(ceWeight: 1)
        try model.losses([textToImage], config: config).total.backward()
        XCTAssertEqual(input.weight.grad?.toArray().filter { $0 != 0 }.count ?? 0, 0)
        model.zeroGrad()
        try model.losses([edit], config: config).total.backward()
        XCTAssertGreaterThan(try XCTUnwrap(input.weight.grad).toArray().map(abs).max() ?? 0, 0)
    }

    func testNeedsTheQueriesMode() throws {
        let base = try makeTinyModel()
        var rng = RNG(seed: 1)
        XCTAssertThrowsError(
            try MultimodalModel(
                config: MultimodalConfig(
                    imageTokenId: 2, imageBeginTokenId: 3, outputMode: .autoregressive, numQueries: 4,
                    sourceQueries: true),
                visionEncoder: base.visionEncoder, projector: base.projector, llm: base.llm, rng: &rng)
        ) { error in
            XCTAssertTrue(String(describing: error).contains("source_queries"), "\(error)")
        }
    }
}
