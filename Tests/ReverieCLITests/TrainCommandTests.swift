import Foundation
import ReverieTestSupport
import XCTest

/// `reverie train`, `recipes validate` and the inference commands, end to end through the binary on a tiny
/// pipeline (seconds in a debug build).
final class TrainCommandTests: XCTestCase {
    func testTinyPipelineThenGenerateCaptionEditReconstructEval() throws {
        let dir = try ScratchDirectory()
        let pipeline = try TinyRecipes.writePipeline(in: dir.url, steps: 2)
        let validate = try ReverieBinary.run(["recipes", "validate", pipeline.path])
        XCTAssertTrue(validate.succeeded, "\(validate)")
        XCTAssertEqual(validate.stdout.split(separator: "\n").filter { $0.hasPrefix("ok") }.count, 5)

        let train = try ReverieBinary.run(["train", pipeline.path, "--quiet"])
        XCTAssertTrue(train.succeeded, "\(train)")
        XCTAssertTrue(train.stdout.contains("stage 4/5 mllm") && train.stdout.contains("stage 5/5 mllm"), train.stdout)
        XCTAssertTrue(train.stdout.contains("caption_exact"), train.stdout)
        XCTAssertFalse(train.stdout.contains("edit_oracle"), "the oracle is scored only when asked for")
        let again = try ReverieBinary.run(["train", pipeline.path, "--quiet"])
        XCTAssertFalse(again.succeeded)
        XCTAssertTrue(again.stderr.contains("already holds a run"), "\(again)")
        let resumed = try ReverieBinary.run(["train", pipeline.path, "--quiet", "--resume"])
        XCTAssertTrue(resumed.succeeded && resumed.stdout.contains("mllm: done"), "\(resumed)")

        let model = dir.url.appendingPathComponent("runs/model.h5").path  // the float16 export
        let common = ["--checkpoint", model, "--steps", "2"]
        let drawn = dir.file("drawn.png").path
        let gen = try ReverieBinary.run(["generate"] + common + ["--prompt", "a red circle", "--out", drawn])
        XCTAssertTrue(gen.succeeded, "\(gen)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: drawn))
        // The sampler reaches the decoder: Euler draws another image than DDIM from the same seed.
        let euler = dir.file("euler.png").path
        let viaEuler = try ReverieBinary.run(
            ["generate"] + common + [
                "--sampler", "euler", "--prompt", "a red circle",
                "--out", euler,
            ])
        XCTAssertTrue(viaEuler.succeeded, "\(viaEuler)")
        XCTAssertNotEqual(
            try Data(contentsOf: URL(fileURLWithPath: euler)), try Data(contentsOf: URL(fileURLWithPath: drawn)))
        let inter = try ReverieBinary.run(
            ["generate"] + common + [
                "--prompt", "a red circle", "--interleaved",
                "--out", dir.file("story.png").path,
            ])
        XCTAssertTrue(inter.succeeded && inter.stdout.hasPrefix("a red circle"), "\(inter)")
        let cap = try ReverieBinary.run(["caption", "--checkpoint", model, "--image", drawn])
        XCTAssertTrue(cap.succeeded, "\(cap)")
        let edited = dir.file("edited.png").path
        let edit = try ReverieBinary.run(
            ["edit"] + common + [
                "--image", drawn, "--instruction", "make it blue",
                "--instruction", "move it left", "--out", edited,
            ])
        XCTAssertTrue(edit.succeeded, "\(edit)")
        for f in [edited, dir.file("edited-1.png").path, dir.file("edited-2.png").path] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: f), f)
        }
        let rec = try ReverieBinary.run(["reconstruct"] + common + ["--image", drawn, "--out", dir.file("r.png").path])
        XCTAssertTrue(rec.succeeded, "\(rec)")
        let eval = try ReverieBinary.run(["eval"] + common + ["--count", "2", "--json"])
        XCTAssertTrue(eval.succeeded, "\(eval)")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        for key in ["caption_exact", "text_to_image", "edit", "reconstruction"] {
            let v = try XCTUnwrap(json[key] as? Double, key)
            XCTAssertTrue((0...1).contains(v), "\(key) = \(v) in \(eval.stdout)")
        }

        let captionOnly = try ReverieBinary.run(
            ["eval"] + common + [
                "--count", "2", "--json", "--capabilities",
                "caption",
            ])
        XCTAssertTrue(
            captionOnly.succeeded && captionOnly.stdout.contains("caption_exact")
                && !captionOnly.stdout.contains("text_to_image"), "\(captionOnly)")
        XCTAssertFalse(try ReverieBinary.run(["eval"] + common + ["--capabilities", "draw"]).succeeded)
        // --failures lists every missed edit: as many as the score says, each with what was wanted.
        let listed = try ReverieBinary.run(
            ["eval"] + common + [
                "--count", "3", "--json", "--capabilities", "edit",
                "--failures",
            ])
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
        let missed = try XCTUnwrap(report["edit_failures"] as? [[String: Any]], listed.stdout)
        XCTAssertEqual(missed.count, Int((3 * (1 - (try XCTUnwrap(report["edit"] as? Double)))).rounded()))
        for miss in missed { XCTAssertTrue((miss["wanted"] as? String ?? "").contains(" on "), "\(miss)") }
        let text = try ReverieBinary.run(["eval"] + common + ["--count", "3", "--capabilities", "edit", "--failures"])
        XCTAssertTrue(text.stdout.contains("edits that missed (\(missed.count))"), text.stdout)
        // edit_oracle (asked for by name only) draws each target's own conditions: the decoder's ceiling.
        XCTAssertNil(report["edit_oracle"])
        let oracle = try ReverieBinary.run(
            ["eval"] + common + [
                "--count", "3", "--json", "--capabilities",
                "edit_oracle",
            ])
        let oracleReport = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(oracle.stdout.utf8))
                as? [String: Any], "\(oracle)")
        let ceiling = try XCTUnwrap(oracleReport["edit_oracle"] as? Double, oracle.stdout)
        XCTAssertTrue([0, 1, 2, 3].map { Double($0) / 3 }.contains { abs($0 - ceiling) < 1e-9 }, "\(ceiling)")
        XCTAssertNil(oracleReport["edit"], oracle.stdout)
        let both = try ReverieBinary.run(
            ["eval"] + common + [
                "--count", "3", "--capabilities", "edit,edit_oracle",
                "--failures",
            ])
        XCTAssertTrue(both.stdout.contains("missed from the target's own conditions too"), both.stdout)
        // Edits keep the source by default; --keep-threshold 0 redraws everything, a negative one is refused.
        let redrawn = try ReverieBinary.run(
            ["edit"] + common + [
                "--image", drawn, "--instruction", "make it blue",
                "--keep-threshold", "0", "--out", edited,
            ])
        XCTAssertTrue(redrawn.succeeded, "\(redrawn)")
        let refused = try ReverieBinary.run(
            ["edit"] + common + [
                "--image", drawn, "--instruction", "make it blue",
                "--keep-threshold", "-1", "--out", edited,
            ])
        XCTAssertFalse(refused.succeeded)
        XCTAssertTrue(refused.stderr.contains("--keep-threshold"), refused.stderr)

        // A decoder-stage checkpoint evaluates what it can: reconstruction.
        let decoderEval = try ReverieBinary.run([
            "eval", "--checkpoint",
            dir.url.appendingPathComponent(
                "runs/decoder/final.h5"
            ).path, "--steps", "2", "--count", "2", "--json",
        ])
        XCTAssertTrue(decoderEval.succeeded, "\(decoderEval)")
        XCTAssertTrue(decoderEval.stdout.contains("\"reconstruction\""), decoderEval.stdout)

        // Bad input: an empty prompt, a checkpoint without the parts a command needs, a missing image.
        let empty = try ReverieBinary.run(["generate"] + common + ["--prompt", " ", "--out", drawn])
        XCTAssertFalse(empty.succeeded)
        XCTAssertTrue(empty.stderr.contains("--prompt is empty"), "\(empty)")
        let vaeOnly = dir.url.appendingPathComponent("runs/vae/final.h5").path
        let partial = try ReverieBinary.run(["caption", "--checkpoint", vaeOnly, "--image", drawn])
        XCTAssertFalse(partial.succeeded)
        XCTAssertTrue(partial.stderr.contains("has no 'vision' part"), "\(partial)")
        let missing = try ReverieBinary.run(["caption", "--checkpoint", model, "--image", dir.file("nope.png").path])
        XCTAssertFalse(missing.succeeded)
        XCTAssertTrue(missing.stderr.contains("nope.png"), "\(missing)")
    }

    /// A pipeline checks every stage with every --set before it trains any: an override that only the decoder stage
    /// cannot take fails at once (it used to fail after the earlier stages had trained), and nothing is written.
    func testPipelineOverridesAreCheckedBeforeAnyStageTrains() throws {
        let dir = try ScratchDirectory()
        let pipeline = try TinyRecipes.writePipeline(in: dir.url)
        let run = try ReverieBinary.run(["train", pipeline.path, "--quiet", "--set", "model.unet.condition_tokens=9"])
        XCTAssertFalse(run.succeeded)
        XCTAssertTrue(run.stderr.contains("decoder.yaml") && run.stderr.contains("condition_tokens"), "\(run)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("runs/siglip").path))
        let validate = try ReverieBinary.run([
            "recipes", "validate", pipeline.path, "--set",
            "model.unet.condition_tokens=9",
        ])
        XCTAssertFalse(validate.succeeded)
        XCTAssertTrue(validate.stdout.contains("condition_tokens"), "\(validate)")
    }

    func testValidateReportsFileLineAndNearestKey() throws {
        let dir = try ScratchDirectory()
        let bad = dir.file("bad.yaml")
        try TinyRecipes.text("vae", root: dir.url.path).replacingOccurrences(of: "optim: {lr:", with: "optim: {lrate:")
            .write(to: bad, atomically: true, encoding: .utf8)
        let result = try ReverieBinary.run(["recipes", "validate", bad.path])
        XCTAssertFalse(result.succeeded)
        XCTAssertTrue(
            result.stdout.contains("\(bad.path):7: optim.lrate: unknown key; did you mean 'lr'?"),
            "\(result)")
        let train = try ReverieBinary.run(["train", bad.path])
        XCTAssertFalse(train.succeeded)
        XCTAssertTrue(train.stderr.contains("optim.lrate"), "\(train)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("vae").path))
    }
}
