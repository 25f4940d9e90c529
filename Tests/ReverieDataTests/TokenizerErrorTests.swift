import Foundation
import XCTest

@testable import ReverieData

/// A malformed tokenizer.json gives an error that names the file (and the key), never a crash.
final class TokenizerErrorTests: XCTestCase {
    private func assertRejected(
        _ json: String, mentioning key: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-bad-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(json.utf8).write(to: url)
        XCTAssertThrowsError(try Tokenizer(contentsOf: url), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(url.path), "no file in: \(message)", file: file, line: line)
            XCTAssertTrue(message.contains(key), "no '\(key)' in: \(message)", file: file, line: line)
        }
    }

    private let preTokenizer = #""pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#

    func testMalformedFiles() throws {
        try assertRejected("{ not json", mentioning: "not valid JSON")
        try assertRejected("", mentioning: "not valid JSON")
        try assertRejected("[1, 2]", mentioning: "(root)")
        try assertRejected("{}", mentioning: "model")
        try assertRejected(#"{"model": {"type": "WordPiece", "vocab": {}}}"#, mentioning: "model.type")
        try assertRejected(
            #"{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}, \#(preTokenizer)}"#,
            mentioning: "model.vocab")
        try assertRejected(
            #"{"model": {"type": "BPE", "vocab": {"a": 2000000000}, "merges": []}, \#(preTokenizer)}"#,
            mentioning: "model.vocab")
        try assertRejected(
            #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}, \#(preTokenizer)}"#,
            mentioning: "model.merges[0]")
        try assertRejected(
            #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}, "merges": []}, \#(preTokenizer)}"#,
            mentioning: "tokens 'a' and 'b' share id 0")
        try assertRejected(
            #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [3]}, \#(preTokenizer)}"#,
            mentioning: "model.merges[0]")
        try assertRejected(
            #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Whitespace"}}"#,
            mentioning: "pre_tokenizer")
        let model = #""model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}"#
        try assertRejected(#"{\#(model), \#(preTokenizer), "normalizer": {"type": "NFC"}}"#, mentioning: "normalizer")
        try assertRejected(
            #"{\#(model), \#(preTokenizer), "added_tokens": [{"id": 1}]}"#, mentioning: "added_tokens[0].content")
        // Every component of a real file is implemented or refused by key and value, never ignored.
        let refused: [(String, String)] = [
            (#""pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\w+"}, "behavior": "Isolated"}"#, "\\w+"),
            (
                #""pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\s+(?!\\S)|\\s+"}, "behavior": "Removed"}"#,
                "\\s+"
            ),
            (#""normalizer": {"type": "Replace", "pattern": {"Regex": " +"}, "content": " "}"#, "normalizer.pattern"),
            (#""normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}]}"#, "NFKC"),
            (#""decoder": {"type": "WordPiece"}"#, "WordPiece"),
            (#""post_processor": {"type": "BertProcessing"}"#, "BertProcessing"),
            (
                #""pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}, {"type": "Digits"}]}"#,
                "after ByteLevel"
            ),
            (#""pre_tokenizer": {"type": "Metaspace", "replacement": "ab"}"#, "replacement"),
        ]
        for (section, mentioning) in refused {
            try assertRejected(#"{\#(model), \#(section)}"#, mentioning: mentioning)
        }
        try assertRejected(
            #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"}}"#,
            mentioning: "unk_token")
    }

    /// GPT-2's own file layout: "" for no subword prefix/suffix, merges as "a b" strings, `<|endoftext|>` added.
    func testGPT2StyleFileLoads() throws {
        let json = #"""
            {"added_tokens": [{"id": 6, "content": "<|endoftext|>", "special": true}], "normalizer": null,
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true},
             "post_processor": {"type": "ByteLevel"}, "decoder": {"type": "ByteLevel"},
             "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
                       "end_of_word_suffix": "", "fuse_unk": false,
                       "vocab": {"h": 0, "i": 1, "Ġ": 2, "hi": 3, "Ġhi": 4, "!": 5}, "merges": ["h i", "Ġ hi"]}}
            """#
        let tokenizer = try Tokenizer(json: Data(json.utf8), path: "gpt2.json")
        XCTAssertEqual(tokenizer.encode("hi hi!<|endoftext|>"), [3, 4, 5, 6])
        XCTAssertEqual(try tokenizer.decode([3, 4, 5, 6]), "hi hi!<|endoftext|>")
    }

    func testMissingFileAndUnknownId() throws {
        let url = URL(fileURLWithPath: "/nonexistent/tokenizer.json")
        XCTAssertThrowsError(try Tokenizer(contentsOf: url)) { XCTAssertTrue("\($0)".contains(url.path)) }
        let tokenizer = try Tokenizer(contentsOf: TokenizerFixture.tokenizerURL)
        XCTAssertThrowsError(try tokenizer.decode([1_000_000]))
        XCTAssertThrowsError(try TokenizerTrainer(vocabularySize: 100).train(on: ["abc"]))
    }

    /// Random damage to a real tokenizer.json never crashes: it loads or throws naming the file.
    func testRandomDamageNeverCrashes() throws {
        let original = [UInt8](try Data(contentsOf: TokenizerFixture.tokenizerURL))
        var state: UInt64 = 42
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-dmg-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        let replacements: [UInt8] = Array("0123456789\"{}[],: -ab".utf8) + [0xFF, 0x00]
        for _ in 0..<40 {
            var damaged = original
            for _ in 0..<(1 + next() % 4) {
                damaged[next() % damaged.count] = replacements[next() % replacements.count]
            }
            try Data(damaged).write(to: url)
            do {
                let tokenizer = try Tokenizer(contentsOf: url)
                _ = tokenizer.encode("The red circle <image> café 画 🎨")
            } catch {
                XCTAssertTrue("\(error)".contains(url.path), "\(error)")
            }
        }
    }
}
