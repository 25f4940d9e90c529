import Foundation
import ReverieCore
import ReverieTestSupport
import XCTest

@testable import ReverieIO

/// Builds safetensors bytes by hand: `tensors` are (name, dtype, shape, raw little-endian payload).
private func safetensorsBytes(_ tensors: [(String, String, [Int], [UInt8])], headerOverride: String? = nil) -> Data {
    var entries: [String] = []
    var payload: [UInt8] = []
    for (name, dtype, shape, bytes) in tensors {
        let shapeText = shape.map(String.init).joined(separator: ",")
        entries.append(
            "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shapeText)],"
                + "\"data_offsets\":[\(payload.count),\(payload.count + bytes.count)]}")
        payload += bytes
    }
    let header = headerOverride ?? "{\"__metadata__\":{\"format\":\"pt\"}," + entries.joined(separator: ",") + "}"
    var data = Data()
    var length = UInt64(header.utf8.count).littleEndian
    withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
    data.append(contentsOf: Array(header.utf8))
    data.append(contentsOf: payload)
    return data
}

private func f32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
}

private func u16Bytes(_ values: [UInt16]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

final class SafetensorsTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func write(_ data: Data, _ name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    private func assertError(
        _ body: @autoclosure () throws -> Any, contains parts: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let message = String(describing: error)
            for part in parts {
                XCTAssertTrue(message.contains(part), "'\(message)' lacks '\(part)'", file: file, line: line)
            }
        }
    }

    func testReadsF32F16BF16WidenedToFloat32() throws {
        // F16: 1.0 = 0x3C00, -2.5 = 0xC100, smallest subnormal 2^-24 = 0x0001, 65504 = 0x7BFF.
        // BF16: 1.0 = 0x3F80, -0.15625 = 0xBE20, 3.0 = 0x4040.
        let url = try write(
            safetensorsBytes([
                ("a", "F32", [2, 3], f32Bytes([1, 2, 3, 4, 5, -6.5])),
                ("b", "F16", [4], u16Bytes([0x3C00, 0xC100, 0x0001, 0x7BFF])),
                ("c.weight", "BF16", [3, 1], u16Bytes([0x3F80, 0xBE20, 0x4040])),
            ]), "m.safetensors")
        let file = try SafetensorsFile(url: url)
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(file.tensorNames, ["a", "b", "c.weight"])
        let a = try file.tensor("a", shape: [2, 3])
        XCTAssertEqual(a.shape, [2, 3])
        XCTAssertEqual(a.toArray(), [1, 2, 3, 4, 5, -6.5])
        XCTAssertEqual(try file.tensor("b").toArray(), [1, -2.5, 0x1p-24, 65504])
        XCTAssertEqual(try file.tensor("c.weight").toArray(), [1, -0.15625, 3])
    }

    func testFloat16SpecialValues() {
        XCTAssertEqual(float32(fromFloat16Bits: 0x7C00), .infinity)
        XCTAssertEqual(float32(fromFloat16Bits: 0xFC00), -.infinity)
        XCTAssertTrue(float32(fromFloat16Bits: 0x7E00).isNaN)
        XCTAssertEqual(float32(fromFloat16Bits: 0x8000).sign, .minus)
        XCTAssertEqual(float32(fromFloat16Bits: 0x03FF), Float(0x3FF) * 0x1p-24)
        XCTAssertEqual(float32(fromFloat16Bits: 0x0400), 0x1p-14)
    }

    func testErrorsNameFileAndTensor() throws {
        let good = try write(safetensorsBytes([("w", "F32", [2], f32Bytes([1, 2]))]), "good.safetensors")
        let file = try SafetensorsFile(url: good)
        assertError(try file.tensor("nope"), contains: ["good.safetensors", "'nope'"])
        assertError(try file.tensor("w", shape: [3]), contains: ["good.safetensors", "'w'", "[2]", "[3]"])

        var truncated = safetensorsBytes(
            [("w", "F32", [2], f32Bytes([1, 2])), ("x", "F32", [4], f32Bytes([1, 2, 3, 4]))])
        truncated.removeLast(5)
        let cut = try write(truncated, "cut.safetensors")
        assertError(try SafetensorsFile(url: cut), contains: ["cut.safetensors", "truncated", "'x'"])

        let badJSON = try write(safetensorsBytes([], headerOverride: "{not json"), "json.safetensors")
        assertError(try SafetensorsFile(url: badJSON), contains: ["json.safetensors", "header"])

        let spanMismatch = try write(
            safetensorsBytes(
                [],
                headerOverride:
                    "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}") + Data(count: 8),
            "span.safetensors")
        assertError(try SafetensorsFile(url: spanMismatch), contains: ["span.safetensors", "'w'", "12 bytes"])

        let ints = try write(safetensorsBytes([("ids", "I64", [1], [UInt8](repeating: 0, count: 8))]), "i.safetensors")
        assertError(try SafetensorsFile(url: ints), contains: ["i.safetensors", "'ids'", "I64"])

        let tiny = try write(Data([1, 2, 3]), "tiny.safetensors")
        assertError(try SafetensorsFile(url: tiny), contains: ["tiny.safetensors", "truncated"])

        var huge = Data(count: 16)
        huge[7] = 0x7F
        let hugeHeader = try write(huge, "huge.safetensors")
        assertError(try SafetensorsFile(url: hugeHeader), contains: ["huge.safetensors", "header length"])

        assertError(
            try SafetensorsFile(url: dir.appendingPathComponent("absent.safetensors")),
            contains: ["absent.safetensors", "not found"])
    }

    /// NaN or infinite weights are refused by name; tensors whose bytes overlap are a forged header.
    func testNonFiniteAndOverlappingTensorsAreRefused() throws {
        let nan = try write(safetensorsBytes([("w", "F32", [3], f32Bytes([1, .nan, .infinity]))]), "nan.safetensors")
        assertError(
            try SafetensorsFile(url: nan).tensor("w"), contains: ["nan.safetensors", "'w'", "2 NaN or infinite"])
        XCTAssertEqual(try SafetensorsFile(url: nan).tensor("w", allowNonFinite: true).count, 3)
        let header =
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}"
        let overlap = try write(
            safetensorsBytes([("x", "F32", [3], f32Bytes([1, 2, 3]))], headerOverride: header), "overlap.safetensors")
        assertError(try SafetensorsFile(url: overlap), contains: ["overlap.safetensors", "'a' and 'b' overlap"])
        // An element count that fits but whose bytes do not (2^62 × 4) overflows: refused, not trapped.
        let huge = #"{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,8]}}"#
        let overflow = try write(safetensorsBytes([], headerOverride: huge), "overflow.safetensors")
        assertError(try SafetensorsFile(url: overflow), contains: ["overflow.safetensors", "overflows"])
    }

    func testShardedCheckpointThroughIndex() throws {
        _ = try write(
            safetensorsBytes([("layers.0.w", "F32", [2], f32Bytes([1, 2]))]),
            "model-00001-of-00002.safetensors")
        _ = try write(
            safetensorsBytes(
                [("layers.1.w", "BF16", [1], u16Bytes([0x4040])), ("norm", "F32", [1], f32Bytes([7]))]),
            "model-00002-of-00002.safetensors")
        let index = """
            {"metadata": {"total_size": 16}, "weight_map": {
              "layers.0.w": "model-00001-of-00002.safetensors",
              "layers.1.w": "model-00002-of-00002.safetensors",
              "norm": "model-00002-of-00002.safetensors"}}
            """
        _ = try write(Data(index.utf8), "model.safetensors.index.json")
        let checkpoint = try SafetensorsCheckpoint(directory: dir)
        XCTAssertEqual(checkpoint.files.count, 2)
        XCTAssertEqual(checkpoint.tensorNames, ["layers.0.w", "layers.1.w", "norm"])
        XCTAssertEqual(try checkpoint.tensor("layers.1.w").toArray(), [3])
        XCTAssertEqual(checkpoint.shape(of: "layers.0.w"), [2])
        let all = try checkpoint.tensors()
        XCTAssertEqual(all["norm"]?.toArray(), [7])
        assertError(
            try checkpoint.tensor("lm_head.weight"),
            contains: ["model.safetensors.index.json", "'lm_head.weight'"])

        // An index entry whose shard lacks the tensor, and a shard that does not exist.
        let lying = index.replacingOccurrences(of: "\"norm\": \"model-00002", with: "\"norm\": \"model-00001")
        _ = try write(Data(lying.utf8), "model.safetensors.index.json")
        assertError(
            try SafetensorsCheckpoint(directory: dir), contains: ["model-00001-of-00002.safetensors", "'norm'"])
        let missingShard = index.replacingOccurrences(of: "00002-of", with: "00009-of")
        _ = try write(Data(missingShard.utf8), "model.safetensors.index.json")
        assertError(try SafetensorsCheckpoint(directory: dir), contains: ["index.json", "00009", "does not exist"])
    }

    func testDirectoryWithoutWeights() {
        assertError(try SafetensorsCheckpoint(directory: dir), contains: [dir.path, "model.safetensors"])
    }

    func testConfigFileAccessorsNameFileAndKey() throws {
        let text =
            #"{"hidden_size": 64, "rms_norm_eps": 1e-6, "tie_word_embeddings": true,"#
            + #" "architectures": ["LlamaForCausalLM"], "name": "x", "bad": "64", "nested": {"a": 1}}"#
        let url = try write(Data(text.utf8), "config.json")
        let config = try HFConfigFile(url: dir)
        XCTAssertEqual(config.url, url)
        XCTAssertEqual(try config.int("hidden_size"), 64)
        XCTAssertEqual(try config.double("rms_norm_eps"), 1e-6)
        XCTAssertEqual(try config.bool("tie_word_embeddings"), true)
        XCTAssertEqual(try config.int("absent", default: 3), 3)
        XCTAssertEqual(config.architecture, "LlamaForCausalLM")
        XCTAssertEqual(try config.object("nested")?.int("a"), 1)
        assertError(try config.int("bad"), contains: ["config.json", "'bad'", "integer"])
        assertError(try config.int("absent"), contains: ["config.json", "'absent'", "missing"])
        _ = try write(Data("[1]".utf8), "config.json")
        assertError(try HFConfigFile(url: url), contains: ["config.json", "JSON object"])
    }
}

final class SafetensorsWriterTests: XCTestCase {
    func testRoundTripInEveryDType() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-stw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try Tensor(shape: [2, 3], data: [1, -2.5, 0.1, 3, 65504, 1e-3])
        let b = try Tensor(shape: [4], data: [0.5, 0.25, -8, 1.0 / 3])
        for dtype in SafetensorsDType.allCases {
            let url = dir.appendingPathComponent("\(dtype.rawValue).safetensors")
            try SafetensorsFile.write(
                ["layers.10.a": a, "layers.2.b": b], to: url, dtype: dtype,
                metadata: ["format": "pt"])
            let file = try SafetensorsFile(url: url)
            XCTAssertEqual(file.metadata, ["format": "pt"])
            XCTAssertEqual(file.entries["layers.10.a"]?.dtype, dtype)
            let tolerance: Float = dtype == .f32 ? 0 : (dtype == .f16 ? 1e-3 : 8e-3)
            for (name, t) in [("layers.10.a", a), ("layers.2.b", b)] {
                let back = try file.tensor(name, shape: t.shape).toArray()
                for (x, y) in zip(back, t.toArray()) {
                    let bound = max(tolerance * abs(y), dtype == .f32 ? 0 : 1e-6)
                    XCTAssertEqual(x, y, accuracy: bound, "\(dtype) \(name)")
                }
            }
        }
    }
}
