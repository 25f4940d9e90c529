import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieVision

final class SiglipContrastiveTrainingTests: XCTestCase {
    func testKeys() throws {
        var rng = RNG(seed: 4)
        let model = try Self.tinyModel(rng: &rng)
        let keys = model.namedParameters().map(\.0)
        XCTAssertTrue(keys.contains("vision.embeddings.patch_embedding.weight"))
        XCTAssertTrue(keys.contains("text.embeddings.token_embedding.weight"))
        XCTAssertTrue(keys.contains("image_projection.weight"))
        XCTAssertEqual(Array(keys.suffix(2)), ["logit_scale", "logit_bias"])
    }

    /// 8 solid-colour images against 8 distinct captions: ~100 AdamW steps cut the loss by more than 5× and every
    /// image retrieves its own caption.
    func testTinyContrastiveRunLearnsThePairs() throws {
        var rng = RNG(seed: 5)
        let model = try Self.tinyModel(rng: &rng)
        let n = 8, side = 8
        var data: [Float] = []
        for i in 0..<n {
            let rgb: [Float] = [Float(i & 1), Float((i >> 1) & 1), Float((i >> 2) & 1)].map { 0.15 + 0.7 * $0 }
            for c in 0..<3 { data += Array(repeating: rgb[c], count: side * side) }
        }
        let pixels = try Tensor(shape: [n, 3, side, side], data: data)
        let tokens: [[Int]] = (0..<n).map { i in [1 + i, 9 + (i * 3) % 8] + Array(repeating: 17, count: i % 3) }
        let opt = try AdamW(parameters: model.namedParameters(), lr: 1e-2, weightDecay: 1e-4)
        var losses: [Float] = []
        for _ in 0..<100 {
            opt.zeroGrad()
            let loss = try model.loss(pixels: pixels, tokens: tokens, padToken: 0)
            try loss.backward()
            opt.step()
            losses.append(try loss.item())
        }
        let first = losses[0], last = losses.suffix(5).reduce(0, +) / 5
        XCTAssertLessThan(last * 5, first, "loss \(first) → \(last)")
        print("siglip tiny run: loss \(first) → \(last), losses[49] = \(losses[49])")
        let similarity = try withNoGrad {
            try matmul(
                l2Normalized(model.imageEmbeddings(pixels)),
                l2Normalized(model.textEmbeddings(tokens: tokens, padToken: 0)), transposeB: true)
        }.toArray()  // [8, 8]
        for i in 0..<n {
            let row = Array(similarity[(i * n)..<(i * n + n)])
            XCTAssertEqual(row.indices.max { row[$0] < row[$1] }, i, "image \(i): \(row)")
        }
    }

    static func tinyModel(rng: inout RNG) throws -> SiglipContrastiveModel {
        let vision = VisionEncoderConfig(
            hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2,
            imageSize: 8, patchSize: 4, useHead: false)
        let text = TextTowerConfig(
            vocabSize: 20, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1,
            numAttentionHeads: 2, maxPositions: 8, projectionDim: 16)
        return try SiglipContrastiveModel(vision: vision, text: text, rng: &rng)
    }
}
