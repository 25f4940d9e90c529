import Foundation
import ReverieIO
import ReverieTestSupport
import XCTest

@testable import ReverieTrain

/// A run writes a TensorBoard event file beside `metrics.jsonl`: the same losses, learning rate and gradient norms
/// as scalars, the stage evaluation's scores, and its sample sheets as images; a resumed run starts a new file that
/// voids what the old one logged after the checkpoint.
final class TrainingBoardTests: XCTestCase {
    func testARunLogsItsScalarsAndSheetsForTensorBoard() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("vae.yaml")
        try TinyRecipes.text("vae", root: dir.path, steps: 4, extra: "checkpoint: {every: 2}")
            .replacingOccurrences(of: "eval: {every: 0", with: "eval: {every: 2")
            .write(to: url, atomically: true, encoding: .utf8)
        let trainer = try Trainer(recipe: Recipe.load(url))
        trainer.quiet = true
        trainer.stopAfter = 3
        // A run killed after logging step 3 but before checkpointing it: its last checkpoint is step 2's.
        let run = dir.appendingPathComponent("vae")
        let (last, kept) = (run.appendingPathComponent("last.h5"), dir.appendingPathComponent("step-2.h5"))
        trainer.onProgress = {
            if trainer.step == 3, !FileManager.default.fileExists(atPath: kept.path) {
                try? FileManager.default.copyItem(at: last, to: kept)
            }
        }
        _ = try trainer.run()
        try FileManager.default.removeItem(at: last)
        try FileManager.default.moveItem(at: kept, to: last)
        let resumed = try Trainer(recipe: Recipe.load(url))
        resumed.quiet = true
        _ = try resumed.run(resume: true)

        let files = try FileManager.default.contentsOfDirectory(atPath: run.path)
            .filter { $0.hasPrefix("events.out.tfevents.") }.sorted()
        XCTAssertEqual(files.count, 2, "one event file per session of the run: \(files)")
        let events = try files.flatMap { try TensorBoardEventReader.read(run.appendingPathComponent($0)) }
        XCTAssertEqual(events.filter { $0.fileVersion == "brain.Event:2" }.count, 2)
        // The resumed session starts at the step after its checkpoint (step 2), voiding the first session's step 3.
        XCTAssertEqual(events.filter(\.sessionStart).map(\.step), [3])

        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        let start = try XCTUnwrap(events.firstIndex(where: \.sessionStart))
        var logged: [Int: [String: Float]] = [:]
        for (i, e) in events.enumerated() where !e.scalars.isEmpty {
            // What the first session logged after the resumed checkpoint is void, as TensorBoard reads it.
            if i < start && e.step >= 3 { continue }
            logged[e.step, default: [:]].merge(e.scalars) { _, b in b }
        }
        for line in lines where line["loss"] != nil {
            let step = try XCTUnwrap(line["step"] as? Int)
            let scalars = try XCTUnwrap(logged[step], "step \(step)")
            XCTAssertEqual(scalars["loss"], Float(try XCTUnwrap(line["loss"] as? Double)), "step \(step)")
            XCTAssertEqual(scalars["lr"], Float(try XCTUnwrap(line["lr"] as? Double)), "step \(step)")
            XCTAssertEqual(scalars["grad_norm"], Float(try XCTUnwrap(line["grad_norm"] as? Double)), "step \(step)")
            XCTAssertGreaterThan(try XCTUnwrap(scalars["grad_norm"]), 0)
            XCTAssertGreaterThan(try XCTUnwrap(scalars["steps_per_second"]), 0)
            XCTAssertEqual(
                scalars["loss/reconstruction"], Float(try XCTUnwrap(line["reconstruction"] as? Double)), "step \(step)")
        }
        XCTAssertEqual(Set(logged.keys), [1, 2, 3, 4])
        XCTAssertNotNil(logged[2]?["eval/reconstruction"])
        XCTAssertNotNil(logged[4]?["eval/reconstruction"])
        let sheets = events.filter { !$0.images.isEmpty }
        XCTAssertEqual(sheets.map(\.step), [2, 4])
        let sheet = try [UInt8](Data(contentsOf: run.appendingPathComponent("samples/step-4.png")))
        XCTAssertEqual(sheets.last?.images.first?.png, sheet)
        XCTAssertEqual(sheets.last?.images.first?.tag, "samples")
    }
}
