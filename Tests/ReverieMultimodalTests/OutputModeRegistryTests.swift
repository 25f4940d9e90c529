import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieMultimodal

/// A new output mode is one type and one registration line: the model then lays out, trains and generates with it.
final class OutputModeRegistryTests: XCTestCase {
    func testAToyOutputModeRegistersInOneLine() throws {
        OutputModeRegistry.register(SharedQueryOutput.self)
        defer { OutputModeRegistry.shared.unregister(SharedQueryOutput.kind) }
        XCTAssertTrue(OutputModeRegistry.kinds.contains("shared_query"))
        let model = try makeTinyModel(mode: OutputImageMode(rawValue: "shared_query"))
        XCTAssertTrue(model.outputMode is SharedQueryOutput)
        XCTAssertNil(model.outputQueries)
        XCTAssertEqual(try XCTUnwrap(model.stateDict()["shared_query"]).shape, [1, 48])  // its key, at the top level
        // One block of K = 4 positions after <img>, each the same learned vector, read by the head.
        let ex = MultimodalExample(
            tokens: [5, 6, TinyVocab.imageBegin], lossMask: [0, 0, 1], targetImages: [tinyImage(seed: 3)])
        let out = try model.forward(ex)
        XCTAssertEqual(out.outputStarts, [3])
        XCTAssertEqual(out.conditions?.shape, [1, 4, 32])
        let losses = try model.losses([ex])
        XCTAssertTrue(try losses.total.item().isFinite)
        try losses.total.backward()
        let grad = try XCTUnwrap((model.outputMode as? SharedQueryOutput)?.query.grad)
        XCTAssertGreaterThan(grad.toArray().map(abs).max() ?? 0, 0)  // the regression trains the mode's parameter
        XCTAssertEqual(try model.generateConditions(prompt: [5, 6]).shape, [1, 4, 32])
        // The edit options need a mode whose blocks read the image they follow; this one says it does not.
        XCTAssertThrowsError(try makeTinyModel(mode: OutputImageMode(rawValue: "shared_query"), residual: true))
        XCTAssertThrowsError(try makeTinyModel(mode: OutputImageMode(rawValue: "nope"))) { error in
            XCTAssertTrue("\(error)".contains("autoregressive, queries"), "\(error)")
        }
    }
}

/// The toy mode: one learned vector, repeated at the K positions after `<img>`.
final class SharedQueryOutput: Module, OutputMode {
    static let kind = "shared_query"
    static let readsTheImageItFollows = false
    let query: Tensor
    let tokens: Int

    init(dimensions: OutputDimensions, rng: inout RNG) throws {
        query = Tensor.randn([1, dimensions.hidden], std: 0.02, rng: &rng, requiresGrad: true)
        tokens = dimensions.tokens
    }

    override func visit(_ v: inout ModuleVisitor) { v.parameter("shared_query", query) }

    var needsTargets: Bool { false }
    var predictionOffset: Int { 0 }

    func blockInputs(blocks: Int, targets: Tensor?, queryPositions: Tensor?) throws -> [Tensor?] {
        let block = try concat(Array(repeating: query, count: tokens), axis: 0).unsqueeze(0)  // [1, K, D]
        return Array(repeating: block, count: blocks)
    }
}
