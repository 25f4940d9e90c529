import Foundation
import ReverieTestSupport
import XCTest

/// recipes/pretrained/ as a user with downloaded checkpoints runs it, over random-init directories of the same
/// layouts at reduced width (SiglipModel 256 px / 16 px patches, a Llama with a Llama-3 tokenizer, a Stable
/// Diffusion 1.x pipeline): both stages train from the shipped recipe files, and the model captions, draws and
/// exports its parts.
final class PretrainedPipelineTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testThePretrainedPipelineTrainsAndTheModelRuns() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let recipes = try PretrainedMirror.make(repository: Self.repository, in: dir.file("mirror"))
        let run = try ReverieBinary.run([
            "train", recipes.appendingPathComponent("pipeline.yaml").path, "--quiet",
            "--set", "root=\(dir.file("runs").path)", "--set", "train.steps=2", "--set", "train.batch=2",
            "--set", "train.accumulate=1", "--set", "optim.warmup=1", "--set", "checkpoint.every=0",
        ])
        XCTAssertTrue(run.succeeded, "\(run)")
        for stage in ["decoder", "mllm"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("runs/\(stage)/final.h5").path), stage)
        }
        let model = dir.file("runs/model.h5").path
        let photo = Self.repository.appendingPathComponent("Tests/Fixtures/photos/china.jpg").path
        let caption = try ReverieBinary.run(["caption", "--checkpoint", model, "--image", photo])
        XCTAssertTrue(caption.succeeded, "\(caption)")
        let drawn = try ReverieBinary.run([
            "generate", "--checkpoint", model, "--steps", "2", "--prompt", "a temple roof",
            "--out", dir.file("g.png").path,
        ])
        XCTAssertTrue(drawn.succeeded, "\(drawn)")
        for part in ["llm", "unet"] {
            let out = dir.file("export-\(part)")
            let exported = try ReverieBinary.run(["export", model, "--part", part, "--out", out.path])
            XCTAssertTrue(exported.succeeded, "\(exported)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("config.json").path))
        }
    }
}
