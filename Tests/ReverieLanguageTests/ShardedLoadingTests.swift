import Foundation
import ReverieCore
import ReverieIO
import ReverieTestSupport
import XCTest

@testable import ReverieLanguage

/// The fixture re-saved as two shards with an index, and in half precision: the model loads through both paths.
final class ShardedLoadingTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: llamaFixture("gqa_untied").appendingPathComponent("config.json"),
            to: dir.appendingPathComponent("config.json"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Writes the fixture's weights as `shards` files in `dtype` with a `model.safetensors.index.json`.
    private func reshard(dtype: SafetensorsDType, shards: Int) throws {
        let source = try SafetensorsFile(url: llamaFixture("gqa_untied").appendingPathComponent("model.safetensors"))
        let names = source.tensorNames
        var weightMap: [String: String] = [:]
        for s in 0..<shards {
            let shardName = "model-0000\(s + 1)-of-0000\(shards).safetensors"
            var part: [String: Tensor] = [:]
            for (i, name) in names.enumerated() where i % shards == s {
                part[name] = try source.tensor(name)
                weightMap[name] = shardName
            }
            try SafetensorsFile.write(part, to: dir.appendingPathComponent(shardName), dtype: dtype)
        }
        let index: [String: Any] = ["metadata": ["total_size": 0], "weight_map": weightMap]
        try JSONSerialization.data(withJSONObject: index).write(
            to: dir.appendingPathComponent("model.safetensors.index.json"))
    }

    private func logits(_ model: LanguageModel) throws -> [Float] {
        let reference = try SafetensorsFile(
            url: llamaFixture("gqa_untied").appendingPathComponent("reference.safetensors"))
        let input = try reference.tensor("input_ids")
        return try withNoGrad { try model(ids: input.toArray().map { Int($0) }, shape: input.shape).logits.toArray() }
    }

    func testShardedFloat32EqualsSingleFile() throws {
        try reshard(dtype: .f32, shards: 3)
        let sharded = try LanguageModel.load(huggingFaceDirectory: dir)
        let single = try LanguageModel.load(huggingFaceDirectory: llamaFixture("gqa_untied"))
        XCTAssertEqual(try logits(sharded), try logits(single))
        // And through `reverie convert`'s path.
        XCTAssertEqual(try LanguageModel.convertHuggingFace(directory: dir).model.count, single.namedTensors().count)
    }

    func testHalfPrecisionShardsLoadClose() throws {
        let single = try logits(LanguageModel.load(huggingFaceDirectory: llamaFixture("gqa_untied")))
        for dtype in [SafetensorsDType.f16, .bf16] {
            try reshard(dtype: dtype, shards: 2)
            let error = maxAbsDiff(try logits(LanguageModel.load(huggingFaceDirectory: dir)), single)
            print("llama \(dtype.rawValue) weights: max |Δlogits| vs float32 = \(error)")
            XCTAssertLessThan(error, dtype == .f16 ? 0.05 : 0.5, dtype.rawValue)
        }
    }
}
