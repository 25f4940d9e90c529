import Foundation
import ReverieTestSupport
import XCTest

/// Ctrl-C during `reverie train` checkpoints and stops, printing the command that resumes; `--resume` finishes the
/// run with every step logged once.
final class InterruptTests: XCTestCase {
    func testCtrlCCheckpointsAndResumeFinishes() throws {
        let dir = try ScratchDirectory()
        let recipe = dir.file("vae.yaml")
        try TinyRecipes.text("vae", root: dir.url.path, steps: 400).write(to: recipe, atomically: true, encoding: .utf8)
        let metrics = dir.url.appendingPathComponent("vae/metrics.jsonl")

        let process = Process()
        process.executableURL = try ReverieBinary.url()
        process.arguments = ["train", recipe.path, "--quiet", "--set", "optim.lr=0.001"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        // Wait until a few steps are logged, then interrupt as a terminal's Ctrl-C would.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let lines = (try? String(contentsOf: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0
            if lines >= 3 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.interrupt()  // SIGINT
        process.waitUntilExit()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, stdout)
        XCTAssertTrue(stdout.contains("stopped at step"), stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("vae/last.h5").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("vae/final.h5").path))

        // The hint to resume repeats the --set flags (it used to drop them); its command finishes the run.
        let hint = try XCTUnwrap(stdout.split(separator: "\n").first { $0.contains("resume with: ") }, stdout)
        let command = hint.components(separatedBy: "resume with: ")[1]
        XCTAssertEqual(command, "reverie train \(recipe.path) --set optim.lr=0.001 --resume")
        let resumed = try ReverieBinary.run(["train", recipe.path, "--set", "optim.lr=0.001", "--resume", "--quiet"])
        XCTAssertTrue(resumed.succeeded, "\(resumed)")
        let steps = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["step"] as? Int
        }
        XCTAssertEqual(steps, Array(1...400))
    }
}
