import Foundation
import XCTest

@testable import ReverieData

/// Tokenizers in the layouts real models ship (`tools/fixtures/tokenizer_layouts.py`, made with Hugging Face
/// `tokenizers`): ids and decoded text identical to `tokenizers` on a varied corpus (multilingual, digits,
/// whitespace runs, emoji, special tokens inside text).
final class TokenizerLayoutTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizer_layouts")

    struct Reference: Decodable {
        let texts: [String]
        let ids: [[Int]]
        let plain: [[Int]]
        let decoded: [String]
        let decodedSkip: [String]

        enum CodingKeys: String, CodingKey {
            case texts, ids, plain, decoded
            case decodedSkip = "decoded_skip"
        }
    }

    func check(_ layout: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = Self.directory.appendingPathComponent("\(layout).json")
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: Self.directory.appendingPathComponent("\(layout).reference.json")))
        for tokenizer in [try Tokenizer(contentsOf: url), try Tokenizer(json: Tokenizer(contentsOf: url).jsonData())] {
            var wrong = 0
            for (i, text) in reference.texts.enumerated() {
                let ids = tokenizer.encode(text, addSpecialTokens: true)
                let (decoded, skipped) = (try tokenizer.decode(ids), try tokenizer.decode(ids, skipSpecialTokens: true))
                let ok =
                    ids == reference.ids[i] && tokenizer.encode(text) == reference.plain[i]
                    && decoded == reference.decoded[i] && skipped == reference.decodedSkip[i]
                if !ok {
                    wrong += 1
                    if wrong <= 3 {
                        XCTFail(
                            "\(layout) text \(i) \(text.debugDescription): ids \(ids) expected \(reference.ids[i]); "
                                + "decoded \(decoded.debugDescription) expected "
                                + reference.decoded[i].debugDescription, file: file, line: line)
                    }
                }
            }
            XCTAssertEqual(
                wrong, 0, "\(layout): \(wrong) of \(reference.texts.count) texts differ", file: file, line: line)
        }
    }

    func testLlama2SentencePieceLayout() throws { try check("llama2") }
    func testMetaspaceLayout() throws { try check("metaspace") }
    func testLlama3Layout() throws { try check("llama3") }
    func testSmolLMDigitsLayout() throws { try check("smollm") }
}
