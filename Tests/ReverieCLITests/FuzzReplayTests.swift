import Foundation
import XCTest

/// `reverie-fuzz`, the in-process fuzz targets, replays inputs in an ordinary build: every target reads the seeds
/// libFuzzer starts from and every input a past `make libfuzz` found (`Tests/Fixtures/fuzz/<target>/`) without
/// trapping, and an unknown target is refused with the list of known ones.
final class FuzzReplayTests: XCTestCase {
    func testEveryTargetReplaysItsSeedsAndPastFindings() throws {
        let reverie = try ReverieBinary.url()
        let fuzz = reverie.deletingLastPathComponent().appendingPathComponent("reverie-fuzz")
        guard FileManager.default.isExecutableFile(atPath: fuzz.path) else {
            throw XCTSkip("no reverie-fuzz beside \(reverie.path)")
        }
        let dir = try ScratchDirectory()
        let seeds = try ReverieBinary.run(["seeds", dir.url.path], program: fuzz)
        XCTAssertTrue(seeds.succeeded, "\(seeds)")
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let fixtures = repository.appendingPathComponent("Tests/Fixtures")
        let inputs: [String: [URL]] = [
            "image": try files(in: fixtures.appendingPathComponent("photos")),
            "recipe": try files(in: repository.appendingPathComponent("recipes/shapes")),
            "tokenizer": [fixtures.appendingPathComponent("tokenizer/tokenizer.json")],
            "safetensors": [fixtures.appendingPathComponent("llama/mha_tied/model.safetensors")],
            "manifest": [repository.appendingPathComponent("recipes/manifest/example.jsonl")],
            "checkpoint": try files(in: dir.url.appendingPathComponent("checkpoint")),
            "tensorboard": try files(in: fixtures.appendingPathComponent("tensorboard")),
            "hfconfig": [fixtures.appendingPathComponent("siglip/head/config.json")],
        ]
        for (target, seeds) in inputs {
            XCTAssertFalse(seeds.isEmpty, target)
            let found = try files(in: fixtures.appendingPathComponent("fuzz/\(target)"))
            let run = try ReverieBinary.run([target] + (seeds + found).map(\.path), timeout: 120, program: fuzz)
            XCTAssertTrue(run.succeeded, "\(target): \(run)")
            XCTAssertTrue(run.stdout.contains("replayed \(seeds.count + found.count) input(s)"), "\(run)")
        }
        let unknown = try ReverieBinary.run(["nothing"], program: fuzz)
        XCTAssertFalse(unknown.succeeded)
        XCTAssertTrue(unknown.stderr.contains("targets: checkpoint, hfconfig, image"), "\(unknown)")
    }

    /// The regular files directly in `folder` (none when it does not exist).
    func files(in folder: URL) throws -> [URL] {
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
            .sorted { $0.path < $1.path }
    }
}
