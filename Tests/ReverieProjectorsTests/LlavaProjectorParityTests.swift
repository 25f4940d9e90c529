import Foundation
import ReverieCore
import ReverieIO
import ReverieTestSupport
import XCTest

@testable import ReverieProjectors

/// `mlp` at depth 2 is LLaVA-1.5's projector: parity with transformers' `LlavaMultiModalProjector`
/// (fixture from `tools/fixtures/llava_projector.py`), loaded under the same keys.
final class LlavaProjectorParityTests: XCTestCase {
    func testMatchesLlavaMultiModalProjector() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/llava_projector/reference.safetensors")
        let reference = try SafetensorsFile(url: url)
        let features = try reference.tensor("image_features")  // [2, 9, 20]
        var rng = RNG(seed: 0)
        let projector = try ProjectorRegistry.make(
            type: "mlp", dimensions: ProjectorDimensions(inputDim: 20, outputDim: 12, patches: 9), rng: &rng)
        var state: [String: Tensor] = [:]
        for key in ["linear_1.weight", "linear_1.bias", "linear_2.weight", "linear_2.bias"] {
            state[key] = try reference.tensor(key)
        }
        try projector.loadStateDict(state)
        let out = try withNoGrad { try projector(features) }
        let error = maxAbsDiff(out.toArray(), try reference.tensor("output").toArray())
        print("llava projector parity: max |Δ| = \(error)")
        XCTAssertLessThanOrEqual(error, 1e-4)
    }
}
