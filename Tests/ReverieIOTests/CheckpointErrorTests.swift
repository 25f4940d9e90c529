import CHDF5
import Foundation
import ReverieCore
import XCTest

@testable import ReverieIO

/// Bad files must produce a `CheckpointError` whose message names the file, never a crash or HDF5 stderr output.
final class CheckpointErrorTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory = nil }

    /// Every reading entry point fails the same way on a bad file.
    private func assertAllReadsFail(
        _ url: URL, with expected: CheckpointError, file: StaticString = #filePath, line: UInt = #line
    ) {
        let reads: [(String, () throws -> Void)] = [
            ("read", { _ = try Checkpoint.read(from: url) }),
            ("readAttributes", { _ = try Checkpoint.readAttributes(from: url) }),
            ("inspect", { _ = try Checkpoint.inspect(url) }),
            ("readTensor", { _ = try Checkpoint.readTensor("w", from: url) }),
        ]
        for (name, read) in reads {
            let error = checkpointError(read, file: file, line: line)
            XCTAssertEqual(error, expected, name, file: file, line: line)
            XCTAssertTrue(
                error?.description.contains(url.path) ?? false, "\(name): message names the file",
                file: file, line: line)
        }
    }

    func testMissingFile() {
        let url = directory.file("nowhere.h5")
        assertAllReadsFail(url, with: .fileNotFound(path: url.path))
        XCTAssertEqual(CheckpointError.fileNotFound(path: url.path).description, "checkpoint not found: \(url.path)")
    }

    func testDirectoryIsNotAFile() {
        assertAllReadsFail(directory.url, with: .notAFile(path: directory.url.path))
    }

    func testEmptyFile() throws {
        let url = directory.file("empty.h5")
        try Data().write(to: url)
        assertAllReadsFail(url, with: .emptyFile(path: url.path))
    }

    func testPNGFile() throws {
        let url = directory.file("picture.h5")
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        try Data(png + [UInt8](repeating: 0, count: 64)).write(to: url)
        assertAllReadsFail(url, with: .notHDF5(path: url.path, lookalike: "a PNG image"))
        XCTAssertEqual(
            CheckpointError.notHDF5(path: url.path, lookalike: "a PNG image").description,
            "\(url.path) is not an HDF5 file (it looks like a PNG image)")
    }

    func testTextFile() throws {
        let url = directory.file("notes.h5")
        try Data("model: llama\nsteps: 100 — café\n".utf8).write(to: url)
        assertAllReadsFail(url, with: .notHDF5(path: url.path, lookalike: "a text file"))
    }

    func testTruncatedFile() throws {
        let url = directory.file("truncated.h5")
        try Checkpoint(model: ["w": try patternTensor([64, 64])], attributes: ["recipe": .string("seed: 1")])
            .write(to: url)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count / 2).write(to: url)

        let error = checkpointError { _ = try Checkpoint.read(from: url) }
        guard case let .corruptFile(path, detail)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(path, url.path)
        XCTAssertTrue(detail.contains("truncated"), detail)
        XCTAssertTrue(error?.description.hasPrefix("cannot open \(url.path): the HDF5 file is truncated") ?? false)
    }

    func testEveryTruncationFailsCleanly() throws {
        let url = directory.file("cut.h5")
        try Checkpoint(model: ["a.b": try patternTensor([8, 8]), "c": try patternTensor([5])]).write(to: url)
        let bytes = try Data(contentsOf: url)
        for length in [1, 7, 8, 9, 48, 96, 200, 400, 800, bytes.count / 3, bytes.count - 1] {
            try bytes.prefix(length).write(to: url)
            let error = checkpointError { _ = try Checkpoint.read(from: url) }
            XCTAssertTrue(
                error?.description.contains(url.path) ?? false, "length \(length): \(String(describing: error))")
        }
    }

    func testHDF5FileWithoutReverieFormat() throws {
        let url = directory.file("foreign.h5")
        try writeRawHDF5(url) { file in
            _ = try file.createDataset("weights", type: reverie_H5T_IEEE_F32LE(), space: HDF5Dataspace(shape: [2]))
        }
        let expected = CheckpointError.notReverieCheckpoint(
            path: url.path, detail: "the root attribute 'format' is missing")
        assertAllReadsFail(url, with: expected)
        XCTAssertEqual(
            expected.description,
            "\(url.path) is an HDF5 file but not a Reverie checkpoint: the root attribute 'format' is missing")

        try writeRawHDF5(url) { try $0.writeAttribute("format", .string("keras")) }
        assertAllReadsFail(
            url,
            with: .notReverieCheckpoint(
                path: url.path, detail: "the root attribute 'format' is 'keras', expected 'reverie'"))

        try writeRawHDF5(url) { try $0.writeAttribute("format", .string("reverie")) }
        assertAllReadsFail(
            url,
            with: .notReverieCheckpoint(
                path: url.path, detail: "the root attribute 'format_version' is missing"))
    }

    func testNewerFormatVersion() throws {
        let url = directory.file("future.h5")
        try writeRawHDF5(url) { file in
            try file.writeAttribute("format", .string("reverie"))
            try file.writeAttribute("format_version", .int(2))
        }
        assertAllReadsFail(url, with: .unsupportedFormatVersion(path: url.path, version: 2))
    }

    func testMissingAndMisShapedTensor() throws {
        let url = directory.file("model.h5")
        try Checkpoint(model: ["llm.norm.weight": try patternTensor([4])]).write(to: url)

        let missing = checkpointError { _ = try Checkpoint.readTensor("llm.head.weight", from: url) }
        XCTAssertEqual(missing, .missingTensor(path: url.path, key: "model.llm.head.weight"))
        XCTAssertEqual(
            missing?.description,
            "\(url.path) has no tensor 'model.llm.head.weight' (no dataset /model/llm/head/weight)")
        // A group is not a tensor.
        XCTAssertEqual(
            checkpointError { _ = try Checkpoint.readTensor("llm.norm", from: url) },
            .missingTensor(path: url.path, key: "model.llm.norm"))

        let misShaped = checkpointError {
            _ = try Checkpoint.readTensor("llm.norm.weight", from: url, expectedShape: [2, 2])
        }
        XCTAssertEqual(
            misShaped, .shapeMismatch(path: url.path, key: "model.llm.norm.weight", expected: [2, 2], found: [4]))
        XCTAssertEqual(
            misShaped?.description,
            "\(url.path): tensor 'model.llm.norm.weight' has shape [4] in the checkpoint, expected [2, 2]")
    }

    func testNonNumericDatasetIsReportedWithItsKey() throws {
        let url = directory.file("strings.h5")
        try writeRawHDF5(url) { file in
            try file.writeAttribute("format", .string("reverie"))
            try file.writeAttribute("format_version", .int(1))
            let type = try HDF5Datatype.copy(of: reverie_H5T_C_S1())
            try h5check(H5Tset_size(type.id, 4), "size")
            _ = try file.createDataset("model/names", type: type.id, space: HDF5Dataspace(shape: [2]))
        }
        XCTAssertEqual(
            checkpointError { _ = try Checkpoint.read(from: url) },
            .unsupportedDataset(path: url.path, key: "model.names", dtype: "string"))
        XCTAssertEqual(try Checkpoint.inspect(url).datasets.map(\.dtype), ["string"])
    }
}
