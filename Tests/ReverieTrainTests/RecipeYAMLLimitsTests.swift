import XCTest

@testable import ReverieTrain

/// YAML that would crash or stall the parser is refused first, naming the file and line (the fuzzer's 10 000-deep
/// flows, block nesting and billion-laughs aliases, and an enormous `--set` value).
final class RecipeYAMLLimitsTests: XCTestCase {
    func assertRefused(
        _ yaml: String, line: Int?, saying words: String, file: StaticString = #filePath, l: UInt = #line
    ) {
        XCTAssertThrowsError(try RecipeNode.parse(yaml: yaml, file: "r.yaml"), file: file, line: l) { error in
            let e = error as? RecipeError
            XCTAssertEqual(e?.file, "r.yaml", file: file, line: l)
            XCTAssertEqual(e?.line, line, "\(error)", file: file, line: l)
            XCTAssertTrue("\(error)".contains(words), "\(error)", file: file, line: l)
        }
    }

    func testDeepFlowsAreRefused() {
        assertRefused("stage: vae\nx: " + String(repeating: "[", count: 10_000), line: 2, saying: "nested more than 64")
        assertRefused("a: " + String(repeating: "{b: ", count: 100), line: 1, saying: "brackets nested")
        // Brackets inside quotes and comments are text.
        XCTAssertNoThrow(try RecipeNode.parse(yaml: "a: \"\(String(repeating: "[", count: 100))\" # {{{{", file: "r"))
    }

    func testDeepBlocksAreRefused() {
        let keys = (0..<300).map { String(repeating: "  ", count: $0) + "k:" }.joined(separator: "\n")
        assertRefused(keys, line: 130, saying: "nested more than 256 columns")
        assertRefused(String(repeating: "- ", count: 5000) + "x", line: 1, saying: "columns deep")
    }

    func testAliasBombsAreRefused() {
        var lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
        for k in 1..<10 {
            let name = String(UnicodeScalar(97 + k)!), previous = String(UnicodeScalar(96 + k)!)
            lines.append(
                "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
        }
        assertRefused(lines.joined(separator: "\n"), line: 1, saying: "more than 100000 values")
        // A few aliases, as a recipe might share a block, are fine.
        XCTAssertNoThrow(try RecipeNode.parse(yaml: "a: &o {lr: 1}\nb: *o\nc: *o", file: "r"))
    }

    func testHugeTextIsRefusedWithoutParsing() {
        assertRefused("name: " + String(repeating: "a", count: 2 << 20), line: nil, saying: "bytes of YAML")
        var node = RecipeNode(value: .map([]), file: "r", line: 1)
        XCTAssertThrowsError(try node.override("name=" + String(repeating: "a", count: 2 << 20))) { error in
            XCTAssertTrue("\(error)".hasPrefix("--set name: "), "\(error)")
        }
    }
}
