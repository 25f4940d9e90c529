import Foundation
import XCTest

/// The road for your own data, as the README gives it: the manifest pipeline (here over its example manifest of
/// photos, a few steps per stage) trains every stage, exports a model, and the inference commands use it.
final class ManifestPipelineTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testManifestPipelineTrainsEveryStageAndTheModelRuns() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let pipeline = Self.repository.appendingPathComponent("recipes/manifest/pipeline.yaml").path
        let manifest = Self.repository.appendingPathComponent("recipes/manifest/example.jsonl").path
        let run = try ReverieBinary.run([
            "train", pipeline, "--quiet", "--set", "root=\(dir.url.path)", "--set", "data.manifest=\(manifest)",
            "--set", "train.steps=2", "--set", "optim.warmup=1", "--set", "checkpoint.every=0",
        ])
        XCTAssertTrue(run.succeeded, "\(run)")
        for stage in ["siglip", "vae", "decoder", "mllm", "tune"] {
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("\(stage)/final.h5").path))
        }
        let model = dir.file("model.h5").path
        let photo = Self.repository.appendingPathComponent("Tests/Fixtures/photos/china.jpg").path
        XCTAssertTrue(try ReverieBinary.run(["caption", "--checkpoint", model, "--image", photo]).succeeded)
        let drawn = try ReverieBinary.run([
            "edit", "--checkpoint", model, "--steps", "2", "--image", photo,
            "--instruction", "turn it into a cat", "--out", dir.file("e.png").path,
        ])
        XCTAssertTrue(drawn.succeeded, "\(drawn)")
        // The exported model carries the siglip stage's text tower, so the manifest suite scores retrieval too.
        let scored = try ReverieBinary.run([
            "eval", "--checkpoint", model, "--suite", "manifest", "--manifest", manifest, "--count", "3", "--steps",
            "2",
            "--capabilities", "generate", "--json",
        ])
        XCTAssertTrue(scored.succeeded, "\(scored)")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(scored.stdout.utf8)) as? [String: Any])
        let retrieval = try XCTUnwrap(json["text_to_image_retrieval"] as? Double, scored.stdout)
        XCTAssertTrue([0, 1, 2, 3].map { Double($0) / 3 }.contains { abs($0 - retrieval) < 1e-9 }, "\(retrieval)")
        // A manifest that does not exist is named before anything trains.
        let missing = try ReverieBinary.run([
            "train", pipeline, "--quiet", "--set", "root=\(dir.url.path)/other", "--set",
            "data.manifest=/nowhere.jsonl",
        ])
        XCTAssertFalse(missing.succeeded)
        XCTAssertTrue(missing.stderr.contains("/nowhere.jsonl"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("other/siglip").path))
    }
}
