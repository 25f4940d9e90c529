import Foundation
import XCTest

/// `reverie data tokenizer --manifest`: a tokenizer from your own texts, which then encodes them in fewer tokens
/// than bytes; manifests' images need not exist for it.
final class TokenizerCommandTests: XCTestCase {
    func testTokenizerFromManifests() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let lines = (0..<40).map { i in
            [
                #"{"kind": "caption", "image": "img/\#(i).png", "text": "a ripe red apple number \#(i) on a wooden table"}"#,
                #"{"kind": "edit", "source": "a.png", "instruction": "make apple \#(i) green", "target": "b.png", "result": "a green apple"}"#,
            ]
            .joined(separator: "\n")
        }
        try lines.joined(separator: "\n").write(to: dir.file("m.jsonl"), atomically: true, encoding: .utf8)
        let out = dir.file("tokenizer.json").path
        let run = try ReverieBinary.run([
            "data", "tokenizer", "--manifest", dir.file("m.jsonl").path, "--vocab", "300",
            "--out", out,
        ])
        XCTAssertTrue(run.succeeded, "\(run)")
        XCTAssertTrue(run.stdout.contains("the corpus's texts"), run.stdout)
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out)))
                as? [String: Any])
        let vocab = try XCTUnwrap((json["model"] as? [String: Any])?["vocab"] as? [String: Int])
        XCTAssertNotNil(vocab["Ġapple"], "a word of the corpus is one token")
        let bad = try ReverieBinary.run(["data", "tokenizer", "--manifest", dir.file("nope.jsonl").path, "--out", out])
        XCTAssertFalse(bad.succeeded)
        XCTAssertTrue(bad.stderr.contains("nope.jsonl"), bad.stderr)
    }
}
