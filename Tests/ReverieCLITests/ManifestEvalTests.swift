import Foundation
import XCTest

/// `reverie eval --suite manifest` scores a model on any manifest. On ShapesWorld exported to files (a world the
/// shipped model never trained on) the shipped model's drawings are close to the references, its edits closer to
/// their targets than to their sources, and its captions share most words with the references.
final class ManifestEvalTests: XCTestCase {
    func scores(_ arguments: [String]) throws -> [String: Double] {
        let run = try ReverieBinary.run(["eval", "--suite", "manifest", "--json"] + arguments)
        XCTAssertTrue(run.succeeded, "\(run)")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        return json.compactMapValues { $0 as? Double }
    }

    func testTheShippedModelOnShapesWorldExportedToFiles() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let export = try ReverieBinary.run([
            "data", "shapes", "--out", dir.url.path, "--count", "8", "--seed", "1000003",
        ])
        XCTAssertTrue(export.succeeded, "\(export)")
        let captions = try scores([
            "--manifest", dir.file("caption.jsonl").path, "--capabilities", "caption,reconstruct",
        ])
        XCTAssertGreaterThan(try XCTUnwrap(captions["caption_f1"]), 0.6, "\(captions)")
        XCTAssertGreaterThan(try XCTUnwrap(captions["caption_bleu4"]), 0.2, "\(captions)")
        XCTAssertGreaterThan(try XCTUnwrap(captions["reconstruction_ssim"]), 0.9, "\(captions)")
        XCTAssertNil(captions["text_to_image_psnr"])
        let drawn = try scores(["--manifest", dir.file("t2i.jsonl").path, "--capabilities", "generate"])
        XCTAssertGreaterThan(try XCTUnwrap(drawn["text_to_image_ssim"]), 0.9, "\(drawn)")
        let edits = try scores(["--manifest", dir.file("edit.jsonl").path, "--capabilities", "edit"])
        XCTAssertGreaterThan(
            try XCTUnwrap(edits["edit_psnr"]), try XCTUnwrap(edits["edit_psnr_to_source"]) + 5, "\(edits)")
        // Refusals: no manifest, the oracle that needs scenes, a manifest that does not exist.
        XCTAssertFalse(try ReverieBinary.run(["eval", "--suite", "manifest"]).succeeded)
        XCTAssertFalse(
            try ReverieBinary.run([
                "eval", "--suite", "manifest", "--manifest", dir.file("edit.jsonl").path,
                "--capabilities", "edit_oracle",
            ]).succeeded)
        let missing = try ReverieBinary.run(["eval", "--suite", "manifest", "--manifest", dir.file("no.jsonl").path])
        XCTAssertTrue(!missing.succeeded && missing.stderr.contains("no.jsonl"), "\(missing)")
    }
}
