import Foundation
import ReverieCore
import ReverieIO
import ReverieTestSupport
import XCTest

@testable import ReverieLanguage

/// The `reverie convert` code path: HF directory → Reverie HDF5 checkpoint → `LanguageModel`, still at parity.
final class LlamaConversionTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-convert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func testConvertedCheckpointMatchesTransformers() throws {
        for name in LlamaParityTests.configs {
            let dir = llamaFixture(name)
            let converted = try LanguageModel.convertHuggingFace(directory: dir)
            XCTAssertEqual(converted.modelConfig, try String(contentsOf: dir.appendingPathComponent("config.json")))
            XCTAssertEqual(converted.model["lm_head.weight"] == nil, name == "mha_tied")
            let file = scratch.appendingPathComponent("\(name).h5")
            try converted.write(to: file)

            let model = try LanguageModel.load(checkpoint: file)
            let reference = try SafetensorsFile(url: dir.appendingPathComponent("reference.safetensors"))
            let input = try reference.tensor("input_ids")
            let logits = try withNoGrad { try model(ids: input.toArray().map { Int($0) }, shape: input.shape).logits }
            let error = maxAbsDiff(logits.toArray(), try reference.tensor("logits").toArray())
            print("llama parity via convert \(name): max |Δlogits| = \(error)")
            XCTAssertLessThanOrEqual(error, 1e-4, name)
            let prompt = try reference.tensor("prompt").toArray().map { Int($0) }
            XCTAssertEqual(
                try model.generate(prompt: prompt, maxNewTokens: 32),
                try reference.tensor("generated").toArray().map { Int($0) }, name)
        }
    }

    func testUnsupportedArchitectureNamesConfigFile() throws {
        let dir = scratch.appendingPathComponent("bert")
        try FileManager.default.copyItem(at: llamaFixture("gqa_untied"), to: dir)
        try Data(#"{"architectures": ["BertModel"], "model_type": "bert"}"#.utf8)
            .write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try LanguageModel.convertHuggingFace(directory: dir)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("config.json") && message.contains("BertModel"), message)
        }
    }

    func testLoadingACheckpointWithoutModelConfigFails() throws {
        let file = scratch.appendingPathComponent("bare.h5")
        try Checkpoint(model: ["w": Tensor(zeros: [2])]).write(to: file)
        XCTAssertThrowsError(try LanguageModel.load(checkpoint: file)) { error in
            XCTAssertTrue(String(describing: error).contains("model_config"), "\(error)")
        }
    }
}
