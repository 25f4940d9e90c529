import Foundation
import ReverieCore
import ReverieIO
import ReverieTestSupport
import XCTest

@testable import ReverieLanguage

/// Loading errors name the file and the tensor or key at fault.
final class LanguageModelLoadingTests: XCTestCase {
    /// A copy of a fixture with `edit` applied to its config.json.
    private func fixture(_ name: String, edit: (inout [String: Any]) -> Void) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-llama-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: llamaFixture(name), to: dir)
        let configURL = dir.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any] ?? [:]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        return dir
    }

    private func assertLoadError(_ url: URL, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try LanguageModel.load(huggingFaceDirectory: url), file: file, line: line) { error in
            let message = String(describing: error)
            for part in parts {
                XCTAssertTrue(message.contains(part), "'\(message)' lacks '\(part)'", file: file, line: line)
            }
        }
    }

    func testWrongShapeNamesFileAndTensor() throws {
        let url = try fixture("gqa_untied") { $0["intermediate_size"] = 100 }
        assertLoadError(url, ["model.safetensors", "'model.layers.0.mlp.gate_proj.weight'", "[172, 64]", "[100, 64]"])
    }

    func testMissingTensorNamesFileAndTensor() throws {
        let url = try fixture("mha_tied") { $0["tie_word_embeddings"] = false }
        assertLoadError(url, ["model.safetensors", "'lm_head.weight'"])
    }

    func testUnexpectedTensorIsAnError() throws {
        let url = try fixture("gqa_untied") { $0["num_hidden_layers"] = 1 }
        assertLoadError(url, ["model.safetensors", "'model.layers.1."])
    }

    func testBadConfigNamesKey() throws {
        assertLoadError(
            try fixture("gqa_untied") { $0["num_key_value_heads"] = 3 },
            ["config.json", "'num_key_value_heads'"])
        assertLoadError(
            try fixture("gqa_untied") { $0["rope_parameters"] = ["rope_type": "yarn", "factor": 4.0] },
            ["config.json", "yarn"])
        assertLoadError(try fixture("gqa_untied") { $0["hidden_size"] = "64" }, ["config.json", "'hidden_size'"])
        assertLoadError(try fixture("gqa_untied") { $0["model_type"] = "qwen2" }, ["config.json", "'model_type'"])
    }

    func testForwardOnEmbeddingsEqualsForwardOnIds() throws {
        let model = try LanguageModel.load(huggingFaceDirectory: llamaFixture("mha_tied"))
        let ids = [5, 9, 17, 3]
        let a = try model(ids: ids, shape: [1, 4]).logits
        let b = try model(inputEmbeddings: model.embed(ids: ids, shape: [1, 4])).logits
        XCTAssertEqual(a.toArray(), b.toArray())
        let last = try model(ids: ids, shape: [1, 4], lastPositionOnly: true).logits
        XCTAssertEqual(last.shape, [1, 1, 128])
        // A 1-row head product is blocked differently by BLAS than a 4-row one: equal up to float32 rounding.
        assertClose(last.toArray(), Array(a.toArray()[(3 * 128)...]), atol: 1e-5, rtol: 1e-5)
        XCTAssertThrowsError(try model(ids: ids, shape: [2, 3]))
    }

    func testTrainsThroughTheModel() throws {
        // Gradients reach every parameter, including the tied embedding through the head.
        var rng = RNG(seed: 1)
        let model = try LanguageModel(
            config: LlamaConfig(
                vocabSize: 16, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 1, numAttentionHeads: 2,
                numKeyValueHeads: 1, tieWordEmbeddings: true), rng: &rng)
        let logits = try model(ids: [1, 2, 3, 4], shape: [1, 4]).logits
        try logits.sum().backward()
        for (key, p) in model.namedParameters() { XCTAssertNotNil(p.grad, key) }
    }
}
