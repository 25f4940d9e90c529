import Foundation
import ReverieCore
import ReverieIO
import ReverieTestSupport
import XCTest

@testable import ReverieLanguage

/// `Tests/Fixtures/llama/<config>/`, written by `tools/fixtures/llama.py` (transformers LlamaForCausalLM).
func llamaFixture(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/llama/\(name)")
}

/// Parity with transformers' `LlamaForCausalLM` on two tiny random configurations, loaded through the safetensors
/// path: `gqa_untied` (4 query heads over 2 key/value heads, separate lm_head, θ = 10⁴) and `mha_tied`
/// (multi-head, lm_head tied to the embedding, θ = 5·10⁵, eps 1e-5).
final class LlamaParityTests: XCTestCase {
    static let configs = ["gqa_untied", "mha_tied", "rope_llama3", "rope_linear", "rope_dynamic"]

    private func load(_ name: String) throws -> (LanguageModel, SafetensorsFile) {
        let dir = llamaFixture(name)
        let model = try LanguageModel.load(huggingFaceDirectory: dir)
        model.eval()
        let reference = try SafetensorsFile(url: dir.appendingPathComponent("reference.safetensors"))
        return (model, reference)
    }

    private func ids(_ t: Tensor) -> [Int] { t.toArray().map { Int($0) } }

    func testConfigsDecodeAsExpected() throws {
        let gqa = try LlamaConfig(huggingFace: HFConfigFile(url: llamaFixture("gqa_untied")))
        XCTAssertEqual(gqa.numKeyValueHeads, 2)
        XCTAssertEqual(gqa.headDim, 16)
        XCTAssertFalse(gqa.tieWordEmbeddings)
        let mha = try LlamaConfig(huggingFace: HFConfigFile(url: llamaFixture("mha_tied")))
        XCTAssertEqual(mha.ropeTheta, 500_000)  // from transformers 5's rope_parameters
        XCTAssertEqual(mha.rmsNormEps, 1e-5)
        XCTAssertTrue(mha.tieWordEmbeddings)
        // model_config round trip
        let again = try LlamaConfig(
            huggingFace: HFConfigFile(
                values: JSONSerialization.jsonObject(with: Data(mha.jsonText().utf8)) as? [String: Any] ?? [:],
                url: URL(fileURLWithPath: "model_config")))
        XCTAssertEqual(again, mha)
        for (name, expected) in [
            (
                "rope_llama3",
                RopeScaling.llama3(
                    factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalMaxPositions: 32)
            ),
            ("rope_linear", .linear(factor: 4)), ("rope_dynamic", .dynamic(factor: 2, maxPositions: 8)),
        ] {
            let config = try LlamaConfig(huggingFace: HFConfigFile(url: llamaFixture(name)))
            XCTAssertEqual(config.ropeScaling, expected, name)
            let back = try LlamaConfig(
                huggingFace: HFConfigFile(
                    values: JSONSerialization.jsonObject(with: Data(config.jsonText().utf8)) as? [String: Any] ?? [:],
                    url: URL(fileURLWithPath: "model_config")))
            XCTAssertEqual(back, config, name)
        }
        let llama3 = try LlamaConfig(huggingFace: HFConfigFile(url: llamaFixture("rope_llama3")))
        XCTAssertEqual(llama3.headDim, 24)
        XCTAssertTrue(llama3.attentionBias && llama3.mlpBias)
    }

    func testLogitsAndHiddenStateMatchTransformers() throws {
        for name in Self.configs {
            let (model, reference) = try load(name)
            let input = try reference.tensor("input_ids")  // [B, T]
            let out = try withNoGrad {
                try model(ids: ids(input), shape: input.shape, outputHiddenStates: true)
            }
            let logits = try reference.tensor("logits"), hidden = try reference.tensor("last_hidden_state")
            XCTAssertEqual(out.logits.shape, logits.shape)
            let logitError = maxAbsDiff(out.logits.toArray(), logits.toArray())
            let hiddenError = maxAbsDiff(out.lastHiddenState.toArray(), hidden.toArray())
            print("llama parity \(name): max |Δlogits| = \(logitError), max |Δlast_hidden_state| = \(hiddenError)")
            XCTAssertLessThanOrEqual(logitError, 1e-4, name)
            XCTAssertLessThanOrEqual(hiddenError, 1e-4, name)
            XCTAssertEqual(out.hiddenStates?.count, model.config.numHiddenLayers + 1)
        }
    }

    /// (Dynamic NTK scaling excepted: past its context, cached keys keep the frequencies of the step that made them,
    /// in transformers too; its generation is compared with transformers' cached `generate` below.)
    func testIncrementalDecodingEqualsFullForward() throws {
        for name in Self.configs where name != "rope_dynamic" {
            let (model, reference) = try load(name)
            let input = try reference.tensor("input_ids")
            let (b, t) = (input.shape[0], input.shape[1])
            let tokens = ids(input)
            try withNoGrad {
                let full = try model(ids: tokens, shape: [b, t]).logits  // [B, T, V]
                let cache = model.makeCache()
                // A 5-token prefill, then one token at a time.
                var steps: [Tensor] = []
                var start = 0
                for length in [5] + Array(repeating: 1, count: t - 5) {
                    var chunk: [Int] = []
                    for row in 0..<b { chunk += tokens[(row * t + start)..<(row * t + start + length)] }
                    steps.append(try model(ids: chunk, shape: [b, length], cache: cache).logits)
                    start += length
                }
                XCTAssertEqual(cache.length, t)
                let incremental = try concat(steps, axis: 1)
                let error = maxAbsDiff(incremental.toArray(), full.toArray())
                print("llama kv-cache \(name): max |Δlogits| incremental vs full = \(error)")
                // Not bit-identical: BLAS blocks a 1-row product differently from a 12-row one. Logits here reach
                // magnitude ~10, so ~1e-5 is float32 rounding; the bound is the parity bound of docs/DESIGN.md §8.
                XCTAssertLessThanOrEqual(error, 1e-4, name)
            }
        }
    }

    func testGreedyGenerationMatchesTransformers() throws {
        for name in Self.configs {
            let (model, reference) = try load(name)
            let prompt = ids(try reference.tensor("prompt"))
            let expected = ids(try reference.tensor("generated"))
            XCTAssertEqual(expected.count, 32)
            let generated = try model.generate(prompt: prompt, maxNewTokens: 32, sampling: .greedy)
            XCTAssertEqual(generated, expected, name)
        }
    }
}
