import Foundation
import XCTest

@testable import ReverieData

/// Fixtures written by `tools/fixtures/tokenizer.py` with Hugging Face `tokenizers`.
enum TokenizerFixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizer")
    static let tokenizerURL = directory.appendingPathComponent("tokenizer.json")

    struct Reference: Decodable {
        let vocabSize: Int
        let texts: [String]
        let ids: [[Int]]
        let decoded: [String]

        enum CodingKeys: String, CodingKey {
            case vocabSize = "vocab_size"
            case texts, ids, decoded
        }
    }

    static func reference() throws -> Reference {
        try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: directory.appendingPathComponent("reference.json")))
    }

    static func corpus() throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(contentsOf: directory.appendingPathComponent("corpus.json")))
    }
}

final class TokenizerTests: XCTestCase {
    /// Ids identical to `tokenizers` on ASCII, punctuation, digits, accents, CJK, emoji, odd whitespace and special
    /// tokens; decode(encode(x)) == x.
    func testEncodeMatchesHuggingFaceAndRoundTrips() throws {
        let tokenizer = try Tokenizer(contentsOf: TokenizerFixture.tokenizerURL)
        let reference = try TokenizerFixture.reference()
        XCTAssertEqual(tokenizer.vocabularySize, reference.vocabSize)
        var matched = 0
        for (i, text) in reference.texts.enumerated() {
            let ids = tokenizer.encode(text)
            XCTAssertEqual(ids, reference.ids[i], "text \(i): \(text.debugDescription)")
            if ids == reference.ids[i] { matched += 1 }
            XCTAssertEqual(try tokenizer.decode(ids), text, "round trip \(i)")
            XCTAssertEqual(try tokenizer.decode(reference.ids[i]), reference.decoded[i])
        }
        print(
            "tokenizer: \(matched)/\(reference.texts.count) texts with ids identical to HF tokenizers "
                + "(\(reference.ids.map(\.count).reduce(0, +)) ids)")
    }

    /// Training on the fixture corpus reproduces `tokenizers`' BpeTrainer: same vocabulary, same merges in order.
    func testTrainingMatchesHuggingFaceTrainer() throws {
        let hf = try Tokenizer(contentsOf: TokenizerFixture.tokenizerURL)
        let trained = try TokenizerTrainer(vocabularySize: hf.vocabularySize).train(on: try TokenizerFixture.corpus())
        XCTAssertEqual(trained.vocabularySize, hf.vocabularySize)
        XCTAssertEqual(trained.model.tokens, hf.model.tokens)
        XCTAssertEqual(trained.merges.count, hf.merges.count)
        let firstDifference = zip(trained.merges, hf.merges).enumerated()
            .first { $0.element.0 != $0.element.1 }?.offset
        XCTAssertNil(firstDifference, "merge \(firstDifference ?? -1) differs")
        XCTAssertEqual(trained.addedTokens, hf.addedTokens)
        XCTAssertEqual(Array(0..<5).map { trained.token(of: $0) }, Tokenizer.reverieSpecialTokens)
        // `REVERIE_SAVE_TOKENIZER=/tmp/t.json swift test --filter TokenizerTests` then
        // `tools/fixtures/tokenizer.py --check-saved /tmp/t.json` shows HF tokenizers loading Reverie's file.
        if let path = ProcessInfo.processInfo.environment["REVERIE_SAVE_TOKENIZER"] {
            try trained.write(to: URL(fileURLWithPath: path))
        }
    }

    /// A saved tokenizer loads back with the same behaviour (and `tokenizers` loads it: see the fixture script's
    /// `--check-saved`).
    func testSaveAndReload() throws {
        let trained = try TokenizerTrainer(vocabularySize: 400).train(on: try TokenizerFixture.corpus())
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-tok-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try trained.write(to: url)
        try trained.write(to: url)  // replacing an existing file
        let loaded = try Tokenizer(contentsOf: url)
        XCTAssertEqual(loaded.model.tokens, trained.model.tokens)
        for text in try TokenizerFixture.reference().texts {
            XCTAssertEqual(loaded.encode(text), trained.encode(text))
            XCTAssertEqual(try loaded.decode(loaded.encode(text)), text)
        }
        XCTAssertEqual(loaded.encode("<image>"), [0])
        XCTAssertEqual(try loaded.decode([0, 4], skipSpecialTokens: true), "")
        XCTAssertEqual(
            try loaded.reverieTokenIds(), ReverieTokenIds(image: 0, imageBegin: 1, imageEnd: 2, pad: 3, end: 4))
        let plain = try TokenizerTrainer(vocabularySize: 300, specialTokens: ["<pad>"]).train(on: ["abc abc"])
        XCTAssertThrowsError(try plain.reverieTokenIds())
    }

    func testGPT2SplitPattern() {
        XCTAssertEqual(
            ByteLevel.split("Hello world's  end!!  \n"), ["Hello", " world", "'s", " ", " end", "!!", "  \n"])
        XCTAssertEqual(ByteLevel.split("a  b"), ["a", " ", " b"])
        XCTAssertEqual(ByteLevel.split("x\ty 12ab"), ["x", "\t", "y", " 12", "ab"])
        XCTAssertEqual(ByteLevel.split("e\u{301}"), ["e", "\u{301}"])
        XCTAssertEqual(ByteLevel.alphabet.count, 256)
        XCTAssertEqual(Set(ByteLevel.alphabet).count, 256)
    }
}
