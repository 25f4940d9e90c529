import Foundation
import ReverieCore
import XCTest

@testable import ReverieIO

final class CheckpointWriteTests: XCTestCase {
    private struct InjectedFailure: Error {}

    func testFailedWriteLeavesExistingCheckpointAndNoTemporaryFile() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("run.h5")
        let original = Checkpoint(model: ["w": try patternTensor([3])], attributes: ["step": .int(1)])
        try original.write(to: url)
        let originalBytes = try Data(contentsOf: url)

        // A key with an empty path component is rejected before anything is written.
        let invalid = Checkpoint(model: ["w": try patternTensor([3]), "llm..weight": try patternTensor([2])])
        let error = checkpointError { try invalid.write(to: url) }
        XCTAssertEqual(
            error,
            .invalidKey(
                path: url.path, key: "model.llm..weight",
                reason: "empty path component (leading, trailing or doubled '.')"))
        XCTAssertEqual(try Data(contentsOf: url), originalBytes)
        XCTAssertEqual(try directory.contents(), ["run.h5"])

        // A failure after the temporary file holds every dataset: the temporary file goes, the original stays.
        var sawTemporaryFile = false
        let replacement = Checkpoint(model: ["w": try patternTensor([3], seed: 9)], attributes: ["step": .int(2)])
        XCTAssertThrowsError(
            try replacement.write(
                to: url, dtype: .float32,
                beforeCommit: {
                    sawTemporaryFile = try directory.contents().contains("run.h5.tmp-\(getpid())")
                    throw InjectedFailure()
                })
        ) { XCTAssertTrue($0 is InjectedFailure, "\($0)") }
        XCTAssertTrue(sawTemporaryFile)
        XCTAssertEqual(try Data(contentsOf: url), originalBytes)
        XCTAssertEqual(try directory.contents(), ["run.h5"])
        XCTAssertEqual(try Checkpoint.readAttributes(from: url), ["step": .int(1)])

        // A successful write replaces the file in one step.
        try replacement.write(to: url)
        XCTAssertEqual(try Checkpoint.readAttributes(from: url), ["step": .int(2)])
        XCTAssertEqual(try directory.contents(), ["run.h5"])
    }

    func testInvalidKeysAreRejectedWithTheReason() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("bad.h5")
        let w = try patternTensor([1])
        let cases: [(Checkpoint, String, String)] = [
            (Checkpoint(model: ["": w]), "model.", "the key is empty"),
            (Checkpoint(model: [".a": w]), "model..a", "empty path component"),
            (Checkpoint(model: ["a.": w]), "model.a.", "empty path component"),
            (Checkpoint(model: ["a/b": w]), "model.a/b", "'/' is not allowed"),
            (Checkpoint(model: ["a.b": w, "a.b.c": w]), "model.a.b", "also the group of 'model.a.b.c'"),
            (Checkpoint(state: ["rng": w], integers: ["state.rng": [1]]), "state.rng", "both as a tensor"),
            (Checkpoint(integers: ["model.step": [1]]), "model.step", "integer arrays belong to a section"),
            (Checkpoint(integers: ["step": [1]]), "step", "integer arrays belong to a section"),
        ]
        for (checkpoint, key, reason) in cases {
            guard case let .invalidKey(path, badKey, message)? = checkpointError({ try checkpoint.write(to: url) })
            else {
                XCTFail("expected invalidKey for \(key)")
                continue
            }
            XCTAssertEqual(path, url.path)
            XCTAssertEqual(badKey, key)
            XCTAssertTrue(message.contains(reason), "\(message) should mention \(reason)")
        }
        XCTAssertEqual(try directory.contents(), [])
    }

    func testReservedAndInvalidAttributesAreRejected() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("attributes.h5")
        for attributes: [String: CheckpointAttribute] in [
            ["format": .string("other")], ["format_version": .int(2)], ["": .int(1)], ["x": .string("a\0b")],
        ] {
            guard case .invalidAttribute? = checkpointError({ try Checkpoint(attributes: attributes).write(to: url) })
            else { return XCTFail("expected invalidAttribute for \(attributes)") }
        }
        XCTAssertEqual(try directory.contents(), [])
    }

    func testWritingIntoAMissingDirectoryFailsCleanly() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("absent/run.h5")
        let error = checkpointError { try Checkpoint(model: ["w": try patternTensor([1])]).write(to: url) }
        XCTAssertTrue(error?.description.contains(url.path) ?? false, "\(String(describing: error))")
    }

    func testEmptyCheckpointRoundTrips() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("empty.h5")
        try Checkpoint().write(to: url)
        let loaded = try Checkpoint.read(from: url)
        XCTAssertTrue(loaded.model.isEmpty && loaded.optimizer.isEmpty && loaded.state.isEmpty)
        XCTAssertTrue(loaded.attributes.isEmpty)
    }
}
