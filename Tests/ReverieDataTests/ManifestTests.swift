import Foundation
import XCTest

@testable import ReverieData

final class ManifestTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-manifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("images"),
            withIntermediateDirectories: true)
        for name in ["a.png", "b.png"] {
            _ = FileManager.default.createFile(
                atPath: folder.appendingPathComponent("images/\(name)").path,
                contents: Data([0]))
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func write(_ lines: [String]) throws -> URL {
        let url = folder.appendingPathComponent("train.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testReadsEveryKindWithPathsRelativeToTheManifest() throws {
        let url = try write([
            #"{"kind": "caption", "image": "images/a.png", "text": "a small red circle"}"#,
            "",
            #"{"kind": "text_to_image", "text": "draw it", "image": "images/b.png"}"#,
            #"{"kind": "edit", "source": "images/a.png", "instruction": "make it blue", "target": "images/b.png"}"#,
            #"{"kind": "interleaved", "segments": [{"text": "draw"}, {"image": "images/a.png"}, {"text": "then"}]}"#,
        ])
        let m = try Manifest(contentsOf: url)
        let a = ImageRef.file(folder.appendingPathComponent("images/a.png").standardizedFileURL)
        let b = ImageRef.file(folder.appendingPathComponent("images/b.png").standardizedFileURL)
        XCTAssertEqual(
            m.records,
            [
                .caption(image: a, text: "a small red circle"),
                .textToImage(text: "draw it", image: b),
                .edit(source: a, instruction: "make it blue", target: b),
                .interleaved([.text("draw"), .image(a), .text("then")]),
            ])
        XCTAssertEqual(m.lines, [1, 3, 4, 5])
        XCTAssertEqual(m.records.map(\.kind), ["caption", "text_to_image", "edit", "interleaved"])
        XCTAssertTrue(m.skipped.isEmpty)
    }

    /// Windows line ends (CRLF) read as lines; they were one line of invalid JSON.
    func testCRLFLineEndsRead() throws {
        let url = folder.appendingPathComponent("crlf.jsonl")
        let lines = [
            #"{"kind": "caption", "image": "images/a.png", "text": "one"}"#,
            #"{"kind": "caption", "image": "images/b.png", "text": "two"}"#,
        ]
        try Data((lines.joined(separator: "\r\n") + "\r\n").utf8).write(to: url)
        let m = try Manifest(contentsOf: url)
        XCTAssertEqual(m.records.count, 2)
        XCTAssertEqual(m.lines, [1, 2])
    }

    func testBadLinesNameTheFileAndLineOrAreSkippedAndCounted() throws {
        let good = #"{"kind": "caption", "image": "images/a.png", "text": "ok"}"#
        let bad: [(String, String)] = [
            ("{not json", "not valid JSON"),
            ("[1, 2]", "not a JSON object"),
            (#"{"kind": "caption", "image": "images/a.png"}"#, "missing field \"text\""),
            (#"{"kind": "caption", "image": 3, "text": "x"}"#, "field \"image\" is not a string"),
            (
                #"{"kind": "poem", "text": "x"}"#,
                "unknown kind \"poem\" (expected caption, text_to_image, edit, interleaved)"
            ),
            (#"{"kind": "interleaved", "segments": [{"video": "x"}]}"#, "segment 0 has neither \"text\" nor \"image\""),
            (
                #"{"kind": "interleaved", "segments": []}"#,
                "\"segments\" must be a non-empty array of {\"text\"} or {\"image\"} objects"
            ),
        ]
        for (line, reason) in bad {
            let url = try write([good, line])
            XCTAssertThrowsError(try Manifest(contentsOf: url)) { error in
                XCTAssertEqual(error as? DatasetError, .badLine(file: url.path, line: 2, reason: reason))
                XCTAssertTrue("\(error)".hasPrefix("\(url.path):2: "), "\(error)")
            }
        }
        let missing = folder.appendingPathComponent("images/missing.png").path
        let url = try write([good, #"{"kind": "caption", "image": "images/missing.png", "text": "x"}"#, "{", good])
        XCTAssertThrowsError(try Manifest(contentsOf: url)) { error in
            XCTAssertEqual(
                error as? DatasetError,
                .badLine(
                    file: url.path, line: 2,
                    reason: "\"image\": image file \(missing) does not exist"))
        }
        let m = try Manifest(contentsOf: url, skipBad: true)
        XCTAssertEqual(m.records.count, 2)
        XCTAssertEqual(m.lines, [1, 4])
        XCTAssertEqual(m.skipped.map(\.line), [2, 3])
        // Without the file check the missing image is accepted; the broken JSON on line 3 is still an error.
        XCTAssertThrowsError(try Manifest(contentsOf: url, checkFiles: false))
        XCTAssertEqual(try Manifest(contentsOf: url, skipBad: true, checkFiles: false).records.count, 3)
        let directory = try write([#"{"kind": "caption", "image": "images", "text": "x"}"#])
        XCTAssertThrowsError(try Manifest(contentsOf: directory)) { error in
            XCTAssertTrue("\(error)".hasSuffix("is a directory, not an image file"), "\(error)")
        }
    }

    func testMissingOrBinaryManifestIsAnError() throws {
        let nowhere = folder.appendingPathComponent("nope.jsonl")
        XCTAssertThrowsError(try Manifest(contentsOf: nowhere)) { error in
            XCTAssertEqual(
                error as? DatasetError,
                .unreadableManifest(file: nowhere.path, reason: "cannot read the file"))
        }
        let binary = folder.appendingPathComponent("bin.jsonl")
        _ = FileManager.default.createFile(atPath: binary.path, contents: Data([0xFF, 0xFE, 0x00, 0xC3]))
        XCTAssertThrowsError(try Manifest(contentsOf: binary))
    }

    func testWrittenManifestsReadBackToTheSameRecords() throws {
        let a = ImageRef.file(folder.appendingPathComponent("images/a.png").standardizedFileURL)
        let b = ImageRef.file(folder.appendingPathComponent("images/b.png").standardizedFileURL)
        let records: [DataRecord] = [
            .caption(image: a, text: "a \"quoted\" caption\twith a tab, é and 日本"),
            .textToImage(text: "draw it", image: b),
            .edit(source: a, instruction: "make it blue", target: b),
            .edit(source: a, instruction: "make it red", target: b, result: "a red circle on a white background"),
            .interleaved([.text("draw"), .image(a), .text("then"), .image(b)]),
        ]
        let url = folder.appendingPathComponent("written.jsonl")
        try ManifestWriter.write(records, to: url)
        try ManifestWriter.write(records, to: url)  // replaces the existing file
        XCTAssertEqual(try Manifest(contentsOf: url).records, records)
        let first = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").first.map(String.init)
        XCTAssertEqual(first?.hasPrefix(#"{"kind": "caption", "image": "images/a.png", "text": "#), true, first ?? "")
        XCTAssertThrowsError(
            try ManifestWriter.line(
                for: .caption(
                    image: .scene(ShapesWorld(seed: 1).scene(at: 0)),
                    text: "x"), relativeTo: folder))
    }
}
