import Foundation
import ReverieCore
import ReverieIO
import ReverieTestSupport
import XCTest

@testable import ReverieVision

/// `Tests/Fixtures/siglip/<config>/`, written by `tools/fixtures/siglip.py` (transformers SiglipVisionModel).
func siglipFixture(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/siglip/\(name)")
}

/// Parity with transformers' `SiglipVisionModel` on two tiny random configurations: `head` (pooling head on,
/// 4 heads, 16×16 image in 4×4 patches) and `nohead` (no head, 3 heads, 3 layers, 24×24 in 8×8, eps 1e-5).
final class SiglipParityTests: XCTestCase {
    func testOutputsMatchTransformers() throws {
        for name in ["head", "nohead"] {
            let dir = siglipFixture(name)
            let encoder = try VisionEncoder.load(huggingFaceDirectory: dir)
            let reference = try SafetensorsFile(url: dir.appendingPathComponent("reference.safetensors"))
            let out = try withNoGrad { try encoder(reference.tensor("pixel_values")) }
            let lastError = maxAbsDiff(
                out.lastHiddenState.toArray(),
                try reference.tensor("last_hidden_state").toArray())
            let n = encoder.config.numHiddenLayers
            let penultimateError = maxAbsDiff(
                out.hiddenStates[n - 1].toArray(),
                try reference.tensor("penultimate").toArray())
            var message =
                "siglip parity \(name): max |Δlast_hidden_state| = \(lastError), "
                + "max |Δpenultimate| = \(penultimateError)"
            XCTAssertLessThanOrEqual(lastError, 1e-4, name)
            XCTAssertLessThanOrEqual(penultimateError, 1e-4, name)
            if reference.entries["pooler_output"] != nil {
                let pooled = try XCTUnwrap(out.pooled)
                let poolError = maxAbsDiff(pooled.toArray(), try reference.tensor("pooler_output").toArray())
                message += ", max |Δpooler_output| = \(poolError)"
                XCTAssertLessThanOrEqual(poolError, 1e-4, name)
            } else {
                XCTAssertNil(out.pooled)
            }
            print(message)
            // Truncated stack: the penultimate layer without running the last block.
            let early = try withNoGrad { try encoder(reference.tensor("pixel_values"), upToLayer: n - 1) }
            XCTAssertEqual(early.hiddenStates.last?.toArray(), out.hiddenStates[n - 1].toArray())
        }
    }

    func testParityThroughConvertedCheckpoint() throws {
        for name in ["head", "nohead"] {
            let dir = siglipFixture(name)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("siglip-\(UUID().uuidString).h5")
            defer { try? FileManager.default.removeItem(at: file) }
            // Stored under a prefix, as a composed model would hold it.
            let converted = try VisionEncoder.convertHuggingFace(directory: dir)
            var composed = Checkpoint(model: converted.model.reduce(into: [:]) { $0["encoder." + $1.key] = $1.value })
            composed.modelConfig = converted.modelConfig
            try composed.write(to: file)
            let encoder = try VisionEncoder.load(checkpoint: file, prefix: "encoder")
            let reference = try SafetensorsFile(url: dir.appendingPathComponent("reference.safetensors"))
            let out = try withNoGrad { try encoder(reference.tensor("pixel_values")) }
            XCTAssertLessThanOrEqual(
                maxAbsDiff(
                    out.lastHiddenState.toArray(),
                    try reference.tensor("last_hidden_state").toArray()), 1e-4, name)
        }
    }

    func testConversionKeepsKeysAndNamesBadTensors() throws {
        let converted = try VisionEncoder.convertHuggingFace(directory: siglipFixture("head"))
        XCTAssertNotNil(converted.model["head.attention.in_proj_weight"])
        XCTAssertNotNil(converted.model["encoder.layers.1.self_attn.out_proj.bias"])
        XCTAssertNotNil(converted.modelConfig)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-siglip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: siglipFixture("head"), to: dir)
        let configURL = dir.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any] ?? [:]
        config["intermediate_size"] = 40
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        XCTAssertThrowsError(try VisionEncoder.load(huggingFaceDirectory: dir)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("model.safetensors") && message.contains("mlp.fc1.weight"), message)
        }
    }

    func testGradientsReachEveryParameter() throws {
        var rng = RNG(seed: 3)
        let encoder = try VisionEncoder(
            config: VisionEncoderConfig(
                hiddenSize: 8, intermediateSize: 12, numHiddenLayers: 1, numAttentionHeads: 2, imageSize: 4,
                patchSize: 2), rng: &rng)
        let out = try encoder(Tensor.randn([1, 3, 4, 4], rng: &rng))
        try (out.pooled!.sum() + out.lastHiddenState.sum()).backward()
        for (key, p) in encoder.namedParameters() { XCTAssertNotNil(p.grad, key) }
    }
}
