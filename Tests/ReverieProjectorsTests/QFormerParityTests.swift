import Foundation
import ReverieCore
import ReverieIO
import ReverieTestSupport
import XCTest

@testable import ReverieProjectors

/// `Tests/Fixtures/qformer/<config>/`, written by `tools/fixtures/qformer.py` (transformers Blip2QFormerModel).
func qformerFixture(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/qformer/\(name)")
}

/// Parity with transformers' `Blip2QFormerModel` on two tiny random configurations: `every2` (BLIP-2's
/// cross-attention every second layer, GELU, eps 1e-12) and `every1` (cross-attention in all three layers,
/// GELU-tanh, eps 1e-5).
final class QFormerParityTests: XCTestCase {
    func testLastHiddenStateMatchesTransformers() throws {
        for name in ["every2", "every1"] {
            let dir = qformerFixture(name)
            let qformer = try QFormer.load(huggingFaceDirectory: dir)
            let reference = try SafetensorsFile(url: dir.appendingPathComponent("reference.safetensors"))
            let image = try reference.tensor("image_features")
            let tokens = try reference.tensor("query_tokens")  // [1, Q, D]
            let queries = try concat(Array(repeating: tokens, count: image.shape[0]), axis: 0)
            let out = try withNoGrad { try qformer(queries: queries, image: image) }
            let error = maxAbsDiff(out.toArray(), try reference.tensor("last_hidden_state").toArray())
            print("qformer parity \(name): max |Δlast_hidden_state| = \(error)")
            XCTAssertLessThanOrEqual(error, 1e-4, name)

            // The same through the projector (query_tokens + qformer + language_projection), keys as Blip2Model.
            var rng = RNG(seed: 1)
            let projector = try QFormerProjector(
                config: qformer.config, queries: tokens.shape[1], outputDim: 8,
                rng: &rng)
            var state = try QFormer.convertHuggingFace(directory: dir).model.reduce(into: [String: Tensor]()) {
                $0["qformer." + $1.key] = $1.value
            }
            state["query_tokens"] = tokens
            state["language_projection.weight"] = projector.languageProjection.weight
            state["language_projection.bias"] = projector.languageProjection.bias
            try projector.loadStateDict(state)
            let viaProjector = try withNoGrad { try projector.queryFeatures(image) }
            XCTAssertEqual(viaProjector.toArray(), out.toArray())
        }
    }

    func testParityThroughConvertedCheckpoint() throws {
        let dir = qformerFixture("every2")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("qformer-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: file) }
        try QFormer.convertHuggingFace(directory: dir).write(to: file)
        let qformer = try QFormer.load(checkpoint: file)
        let reference = try SafetensorsFile(url: dir.appendingPathComponent("reference.safetensors"))
        let image = try reference.tensor("image_features")
        let tokens = try reference.tensor("query_tokens")
        let out = try withNoGrad {
            try qformer(queries: concat(Array(repeating: tokens, count: image.shape[0]), axis: 0), image: image)
        }
        XCTAssertLessThanOrEqual(maxAbsDiff(out.toArray(), try reference.tensor("last_hidden_state").toArray()), 1e-4)
    }

    func testBadCheckpointsAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-qf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: qformerFixture("every2"), to: dir)
        let configURL = dir.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any] ?? [:]
        config["encoder_hidden_size"] = 41
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        XCTAssertThrowsError(try QFormer.load(huggingFaceDirectory: dir)) { error in
            let message = String(describing: error)
            XCTAssertTrue(
                message.contains("model.safetensors")
                    && message.contains("encoder.layer.0.crossattention.attention.key.weight"), message)
        }
        config["encoder_hidden_size"] = 40
        config["use_qformer_text_input"] = true
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        XCTAssertThrowsError(try QFormer.load(huggingFaceDirectory: dir)) { error in
            XCTAssertTrue(String(describing: error).contains("use_qformer_text_input"), "\(error)")
        }
    }
}
