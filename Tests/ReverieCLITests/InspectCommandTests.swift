import Foundation
import ReverieCore
import ReverieIO
import XCTest

/// `reverie inspect` run as a separate process on checkpoints the tests write.
final class InspectCommandTests: XCTestCase {
    private var scratch: ScratchDirectory!

    override func setUpWithError() throws { scratch = try ScratchDirectory() }

    override func tearDown() {
        scratch?.remove()
        scratch = nil
    }

    private func writeSample(_ name: String, dtype: StorageDType) throws -> URL {
        let url = scratch.file(name)
        try SampleCheckpoint.make().write(to: url, dtype: dtype)
        return url
    }

    // MARK: text output

    func testTextListsAttributesAndEveryDataset() throws {
        let url = try writeSample("sample.h5", dtype: .float32)
        let result = try ReverieBinary.run(["inspect", url.path])
        XCTAssertTrue(result.succeeded, "\(result)")
        XCTAssertEqual(result.stderr, "", "\(result)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)

        XCTAssertEqual(lines.first, "checkpoint \(url.path)", "\(result)")
        XCTAssertTrue(lines.contains("  format = reverie"), "\(result)")
        XCTAssertTrue(lines.contains("  format_version = 1"), "\(result)")
        XCTAssertTrue(lines.contains("  model_config = \(SampleCheckpoint.modelConfig)"), "\(result)")
        XCTAssertTrue(lines.contains("  step = \(SampleCheckpoint.step)"), "\(result)")

        // The recipe spans lines: a header with the line count, then each line indented.
        let recipeLines = SampleCheckpoint.recipe.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard let header = lines.firstIndex(of: "  recipe (\(recipeLines.count) lines):") else {
            return XCTFail("no recipe block header: \(result)")
        }
        XCTAssertEqual(
            Array(lines[(header + 1)...].prefix(recipeLines.count)), recipeLines.map { "    \($0)" },
            "\(result)")

        // Every dataset, in natural key order, with its shape and stored type.
        var expected = SampleCheckpoint.tensorShapes.map {
            ListedDataset(key: $0.key, shape: $0.value, dtype: "float32")
        }
        expected.append(ListedDataset(key: SampleCheckpoint.stepKey, shape: [1], dtype: "int64"))
        guard let datasetsHeader = lines.firstIndex(of: "datasets (\(expected.count)):") else {
            return XCTFail("no 'datasets (\(expected.count)):' line: \(result)")
        }
        let listed = lines[(datasetsHeader + 1)...].prefix { $0.hasPrefix("  ") }.compactMap { line in
            let parsed = ListedDataset(line: line)
            if parsed == nil { XCTFail("unparsable dataset line '\(line)'") }
            return parsed
        }
        XCTAssertEqual(listed, expected, "\(result)")

        XCTAssertTrue(lines.contains("model parameters: \(SampleCheckpoint.modelParameterCount)"), "\(result)")
    }

    func testTextShowsFloat16Storage() throws {
        let url = try writeSample("half.h5", dtype: .float16)
        let result = try ReverieBinary.run(["inspect", url.path])
        XCTAssertTrue(result.succeeded, "\(result)")
        let listed = Dictionary(
            uniqueKeysWithValues: result.stdout.split(separator: "\n").compactMap { ListedDataset(line: String($0)) }
                .map { ($0.key, $0) })
        for (key, shape) in SampleCheckpoint.tensorShapes {
            XCTAssertEqual(
                listed[key],
                ListedDataset(key: key, shape: shape, dtype: SampleCheckpoint.dtype(of: key, modelStorage: .float16)),
                "\(result)")
        }
    }

    func testParameterCountIsGroupedByThousands() throws {
        let url = scratch.file("wide.h5")
        try Checkpoint(model: ["w": try rampTensor([1000, 1234]), "b": try rampTensor([1000])]).write(to: url)
        let result = try ReverieBinary.run(["inspect", url.path])
        XCTAssertTrue(result.succeeded, "\(result)")
        XCTAssertTrue(result.stdout.contains("\nmodel parameters: 1,235,000\n"), "\(result)")
    }

    /// A recipe saved with Windows line endings still prints as an indented block, one line per recipe line.
    func testRecipeWithCRLFLineEndingsPrintsAsABlock() throws {
        let url = scratch.file("crlf.h5")
        var checkpoint = Checkpoint(model: ["w": try rampTensor([2])])
        checkpoint.recipe = "model:\r\n  dim: 4\r\nseed: 7\r\n"
        checkpoint.modelConfig = "{\"dim\": 4}\n"
        try checkpoint.write(to: url)
        let result = try ReverieBinary.run(["inspect", url.path])
        XCTAssertTrue(result.succeeded, "\(result)")
        XCTAssertFalse(result.stdout.contains("\r"), "\(result)")
        XCTAssertTrue(
            result.stdout.contains("\n  recipe (3 lines):\n    model:\n      dim: 4\n    seed: 7\n"), "\(result)")
        XCTAssertTrue(result.stdout.contains("\n  model_config (1 line):\n    {\"dim\": 4}\n"), "\(result)")
    }

    /// Paths with spaces and non-ASCII characters, and paths relative to the working directory.
    func testUnusualAndRelativePaths() throws {
        let directory = scratch.file("my runs/étape 1")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("ckpt (final).h5")
        try SampleCheckpoint.make().write(to: url)

        let absolute = try ReverieBinary.run(["inspect", url.path])
        XCTAssertTrue(absolute.succeeded, "\(absolute)")
        XCTAssertTrue(absolute.stdout.hasPrefix("checkpoint \(url.path)\n"), "\(absolute)")

        let relative = try ReverieBinary.run(
            ["inspect", "étape 1/ckpt (final).h5", "--json"],
            currentDirectory: scratch.file("my runs"))
        XCTAssertTrue(relative.succeeded, "\(relative)")
        let object = try JSONSerialization.jsonObject(with: Data(relative.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(
            (object?["file"] as? String).map { URL(fileURLWithPath: $0).standardizedFileURL.path },
            url.standardizedFileURL.path, "\(relative)")

        let missing = try ReverieBinary.run(
            ["inspect", "étape 1/nothing here.h5"], currentDirectory: scratch.file("my runs"))
        XCTAssertNotEqual(missing.status, 0, "\(missing)")
        XCTAssertTrue(missing.stderr.contains("étape 1/nothing here.h5"), "\(missing)")
    }

    // MARK: --json

    func testJSONHasKeysShapesDtypesAndAttributes() throws {
        for dtype in [StorageDType.float32, .float16] {
            let url = try writeSample("sample-\(dtype).h5", dtype: dtype)
            let result = try ReverieBinary.run(["inspect", url.path, "--json"])
            XCTAssertTrue(result.succeeded, "\(result)")
            XCTAssertEqual(result.stderr, "", "\(result)")

            let object = try XCTUnwrap(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                "stdout is not a JSON object: \(result)")
            XCTAssertEqual(Set(object.keys), ["file", "attributes", "datasets", "model_parameters"], "\(result)")
            XCTAssertEqual(object["file"] as? String, url.path)
            XCTAssertEqual(object["model_parameters"] as? Int, SampleCheckpoint.modelParameterCount)

            let attributes = try XCTUnwrap(object["attributes"] as? [String: Any], "\(result)")
            XCTAssertEqual(attributes["format"] as? String, "reverie")
            XCTAssertEqual(attributes["format_version"] as? Int, 1)
            XCTAssertEqual(attributes["step"] as? Int, Int(SampleCheckpoint.step))
            XCTAssertEqual(attributes["recipe"] as? String, SampleCheckpoint.recipe)
            let config = try XCTUnwrap(attributes["model_config"] as? String, "\(result)")
            XCTAssertEqual(config, SampleCheckpoint.modelConfig)
            // The config is itself JSON a script can decode.
            let decoded = try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Int]
            XCTAssertEqual(decoded, ["dim": 4, "layers": 2, "vocab": 12])

            let datasets = try XCTUnwrap(object["datasets"] as? [[String: Any]], "\(result)")
            var expected: [(key: String, shape: [Int], dtype: String)] = SampleCheckpoint.tensorShapes.map {
                ($0.key, $0.value, SampleCheckpoint.dtype(of: $0.key, modelStorage: dtype))
            }
            expected.append((SampleCheckpoint.stepKey, [1], "int64"))
            XCTAssertEqual(datasets.map { $0["key"] as? String }, expected.map(\.key), "\(dtype)")
            for (dataset, want) in zip(datasets, expected) {
                XCTAssertEqual(Set(dataset.keys), ["key", "path", "shape", "dtype"], want.key)
                XCTAssertEqual(dataset["shape"] as? [Int], want.shape, want.key)
                XCTAssertEqual(dataset["dtype"] as? String, want.dtype, "\(want.key) stored as \(dtype)")
                XCTAssertEqual(dataset["path"] as? String, "/" + want.key.replacingOccurrences(of: ".", with: "/"))
            }
        }
    }

    /// Float attributes stay numbers; NaN and infinities, which JSON cannot hold, become strings instead of
    /// failing the encoder.
    func testJSONFloatAttributesIncludingNonFinite() throws {
        let url = scratch.file("floats.h5")
        try Checkpoint(
            model: ["w": try rampTensor([2])],
            attributes: [
                "lr": .double(3e-4), "best_loss": .double(.nan), "grad_norm": .double(.infinity),
            ]
        ).write(to: url)

        let json = try ReverieBinary.run(["inspect", url.path, "--json"])
        XCTAssertTrue(json.succeeded, "\(json)")
        let object = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json)")
        let attributes = try XCTUnwrap(object["attributes"] as? [String: Any], "\(json)")
        XCTAssertEqual(attributes["lr"] as? Double, 3e-4)
        XCTAssertEqual(attributes["best_loss"] as? String, "nan")
        XCTAssertEqual(attributes["grad_norm"] as? String, "inf")

        let text = try ReverieBinary.run(["inspect", url.path])
        XCTAssertTrue(text.succeeded, "\(text)")
        for line in ["  best_loss = nan", "  grad_norm = inf", "  lr = 0.0003"] {
            XCTAssertTrue(text.stdout.contains("\n\(line)\n"), "\(line): \(text)")
        }
    }

    // MARK: bad files

    /// A failed `inspect`: non-zero exit, nothing on stdout, and a message on stderr that names the file.
    private func assertFails(
        _ url: URL, saying fragment: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        for arguments in [["inspect", url.path], ["inspect", url.path, "--json"]] {
            let result = try ReverieBinary.run(arguments, file: file, line: line)
            XCTAssertFalse(result.wasSignalled, "crashed: \(result)", file: file, line: line)
            XCTAssertNotEqual(result.status, 0, "\(result)", file: file, line: line)
            XCTAssertEqual(result.stdout, "", "errors go to stderr: \(result)", file: file, line: line)
            XCTAssertTrue(result.stderr.contains(url.path), "stderr names the file: \(result)", file: file, line: line)
            XCTAssertTrue(
                result.stderr.contains(fragment), "stderr says '\(fragment)': \(result)",
                file: file, line: line)
            // One error message, not an HDF5 error stack or a Swift backtrace.
            XCTAssertFalse(result.stderr.contains("HDF5-DIAG"), "\(result)", file: file, line: line)
            XCTAssertLessThanOrEqual(result.stderr.split(separator: "\n").count, 2, "\(result)", file: file, line: line)
        }
    }

    func testMissingFileFails() throws {
        try assertFails(scratch.file("nowhere.h5"), saying: "not found")
    }

    func testEmptyFileFails() throws {
        let url = scratch.file("empty.h5")
        try Data().write(to: url)
        try assertFails(url, saying: "empty")
    }

    func testTextFileFails() throws {
        let url = scratch.file("notes.h5")
        try Data("model: llama\nsteps: 100\n".utf8).write(to: url)
        try assertFails(url, saying: "not an HDF5 file (it looks like a text file)")
    }

    func testTruncatedCheckpointFails() throws {
        let url = try writeSample("truncated.h5", dtype: .float32)
        let bytes = try Data(contentsOf: url)
        for length in [bytes.count / 2, bytes.count - 1] {
            try bytes.prefix(length).write(to: url)
            try assertFails(url, saying: "truncated or corrupt")
        }
    }

    func testDirectoryFails() throws {
        try assertFails(scratch.url, saying: "not a regular file")
    }

    func testMissingArgumentFails() throws {
        let result = try ReverieBinary.run(["inspect"])
        XCTAssertFalse(result.succeeded, "\(result)")
        XCTAssertFalse(result.wasSignalled, "\(result)")
        XCTAssertTrue(result.stderr.contains("<file>"), "names the missing argument: \(result)")
    }
}
