import Foundation
import ReverieIO
import ReverieTestSupport
import XCTest

/// `mpirun -np 2 reverie train`: the same maths as one process, one run directory written by rank 0, and a job that
/// ends (with its last checkpoint intact) when a rank dies or hangs.
final class MPITrainTests: XCTestCase {
    static let mpirun = "/usr/bin/mpirun"
    static let twoRanks = [mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "2"]
    /// How the equivalence test starts its two ranks: on this host, or as tools/two-host.sh sets
    /// `REVERIE_MPI_LAUNCHER` (one rank in each of two network namespaces).
    static let launcher = ProcessInfo.processInfo.environment["REVERIE_MPI_LAUNCHER"].map { [$0] } ?? twoRanks

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.mpirun) else {  // .ci/run installs it (make deps)
            XCTFail("\(Self.mpirun) is missing: `make deps` installs openmpi-bin")
            throw CocoaError(.fileNoSuchFile)
        }
    }

    func recipe(_ stage: String, in dir: ScratchDirectory, steps: Int, batch: Int, accumulate: Int, every: Int = 0)
        throws -> URL
    {
        let url = dir.file("\(stage)-\(batch)x\(accumulate).yaml")
        let text = TinyRecipes.text(stage, root: dir.url.path, steps: steps, extra: "checkpoint: {every: \(every)}")
            .replacingOccurrences(of: "batch: 2,", with: "batch: \(batch), accumulate: \(accumulate),")
            .replacingOccurrences(of: "optim: {lr: 1e-3, warmup: 1}", with: "optim: {lr: 1e-3, warmup: 1, clip: 1}")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Two ranks with batch 4 take the same 30 steps as one process with batch 2 × accumulate 2 (the same
    /// micro-batches): every logged loss and every final weight within 1e-4.
    func testTwoRanksTrainAsOneProcess() throws {
        let dir = try ScratchDirectory()
        for stage in ["vae", "siglip"] {
            let two = try recipe(stage, in: dir, steps: 30, batch: 4, accumulate: 1)
            let one = try recipe(stage, in: dir, steps: 30, batch: 2, accumulate: 2)
            let ranks = try ReverieBinary.run(
                ["train", two.path, "--quiet", "--set", "name=\(stage)-two"], timeout: 300, launcher: Self.launcher)
            XCTAssertTrue(ranks.succeeded, "\(ranks)")
            XCTAssertTrue(ranks.stdout.contains("as one process with train.batch=2 train.accumulate=2"), ranks.stdout)
            XCTAssertEqual(ranks.stdout.components(separatedBy: "trained in").count, 2, "rank 0 alone prints")
            let single = try ReverieBinary.run(
                ["train", one.path, "--quiet", "--set", "name=\(stage)-one"], timeout: 300)
            XCTAssertTrue(single.succeeded, "\(single)")
            let a = try losses(dir.url.appendingPathComponent("\(stage)-two"))
            let b = try losses(dir.url.appendingPathComponent("\(stage)-one"))
            XCTAssertEqual(a.count, 30)
            XCTAssertEqual(a.count, b.count)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-4 * abs(y), "\(stage) losses \(a) vs \(b)") }
            try assertSameWeights(
                dir.url.appendingPathComponent("\(stage)-two/final.h5"),
                dir.url.appendingPathComponent("\(stage)-one/final.h5"))
        }
    }

    /// Buckets reduced while backward runs sum the same numbers as one reduction after it: the same weights, bit
    /// for bit (small buckets, so that the tiny model has many).
    func testOverlappedBucketsEqualOneReductionAfterBackward() throws {
        let dir = try ScratchDirectory()
        let url = try recipe("vae", in: dir, steps: 10, batch: 4, accumulate: 1)
        for (name, flags) in [("overlap", ["--bucket-megabytes", "0.002"]), ("after", ["--no-overlap"])] {
            let run = try ReverieBinary.run(
                ["train", url.path, "--quiet", "--set", "name=\(name)"] + flags, timeout: 300, launcher: Self.twoRanks)
            XCTAssertTrue(run.succeeded, "\(run)")
        }
        let a = try Checkpoint.read(from: dir.url.appendingPathComponent("overlap/final.h5")).model
        let b = try Checkpoint.read(from: dir.url.appendingPathComponent("after/final.h5")).model
        XCTAssertEqual(a.count, b.count)
        for (key, t) in a { XCTAssertEqual(t.toArray(), b[key]?.toArray(), key) }
    }

    /// A rank killed mid-run ends the whole job with a message; the last checkpoint loads, and one process resumes
    /// it to the same weights as an unbroken one-process run.
    func testAKilledRankEndsTheJobAndOneProcessResumes() throws {
        let dir = try ScratchDirectory()
        let url = try recipe("vae", in: dir, steps: 400, batch: 2, accumulate: 2, every: 5)
        let job = try BackgroundJob(Self.twoRanks + [try ReverieBinary.url().path, "train", url.path, "--quiet"])
        let last = dir.url.appendingPathComponent("vae/last.h5")
        XCTAssertTrue(job.wait(until: { FileManager.default.fileExists(atPath: last.path) }, seconds: 120))
        let ranks = job.children()
        XCTAssertEqual(ranks.count, 2, "mpirun's ranks")
        kill(ranks[1], SIGKILL)
        XCTAssertTrue(job.waitForExit(seconds: 60), "the job must end when a rank dies")
        XCTAssertNotEqual(job.status, 0)
        XCTAssertNoThrow(try Checkpoint.read(from: last))

        let resumed = try ReverieBinary.run(["train", url.path, "--quiet", "--resume"], timeout: 300)
        XCTAssertTrue(resumed.succeeded, "\(resumed)")
        let unbroken = try ReverieBinary.run(["train", url.path, "--quiet", "--set", "name=unbroken"], timeout: 300)
        XCTAssertTrue(unbroken.succeeded, "\(unbroken)")
        try assertSameWeights(
            dir.url.appendingPathComponent("vae/final.h5"), dir.url.appendingPathComponent("unbroken/final.h5"))
    }

    /// A rank that hangs (stopped) ends the job within the rank timeout, naming what happened.
    func testAHungRankEndsTheJobWithinTheTimeout() throws {
        let dir = try ScratchDirectory()
        let url = try recipe("vae", in: dir, steps: 100_000, batch: 2, accumulate: 2)
        let job = try BackgroundJob(
            Self.twoRanks + [try ReverieBinary.url().path, "train", url.path, "--quiet", "--rank-timeout", "4"])
        let metrics = dir.url.appendingPathComponent("vae/metrics.jsonl")
        XCTAssertTrue(
            job.wait(until: { ((try? String(contentsOf: metrics, encoding: .utf8)) ?? "").count > 200 }, seconds: 120))
        let ranks = job.children()
        XCTAssertEqual(ranks.count, 2)
        kill(ranks[1], SIGSTOP)
        defer { for pid in ranks { kill(pid, SIGKILL) } }
        XCTAssertTrue(job.waitForExit(seconds: 60), "the job must end when a rank hangs")
        XCTAssertNotEqual(job.status, 0)
        XCTAssertTrue(job.output.contains("made no progress"), job.output)
    }

    /// A whole pipeline under two ranks: every stage starts from what rank 0 wrote for the one before, and rank 0
    /// alone exports the model and evaluates it.
    func testAPipelineTrainsUnderTwoRanks() throws {
        let dir = try ScratchDirectory()
        let pipeline = try TinyRecipes.writePipeline(in: dir.url, steps: 2)
        let run = try ReverieBinary.run(["train", pipeline.path, "--quiet"], timeout: 600, launcher: Self.twoRanks)
        XCTAssertTrue(run.succeeded, "\(run)")
        XCTAssertEqual(run.stdout.components(separatedBy: "stage 5/5").count, 2, run.stdout)
        XCTAssertEqual(run.stdout.components(separatedBy: "caption_exact").count, 2, run.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("runs/model.h5").path))
    }

    /// `mpirun -np 2 reverie eval` shares the items between the ranks and reports what one process reports.
    func testEvaluationSharesItemsAmongRanks() throws {
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../checkpoints/shapes/model.h5"
        ).standardizedFileURL.path
        let shapes = try sameReport(["eval", "--checkpoint", model, "--count", "6", "--json", "--failures"])
        XCTAssertNotNil(shapes["edit_two_turn"])

        // The manifest suite too: captions (corpus BLEU over all items), drawings and their retrieval score.
        let dir = try ScratchDirectory()
        let export = try ReverieBinary.run([
            "data", "shapes", "--out", dir.url.path, "--count", "5", "--seed", "1000003", "--kinds", "caption,t2i",
        ])
        XCTAssertTrue(export.succeeded, "\(export)")
        for kind in ["caption", "t2i"] {
            let report = try sameReport([
                "eval", "--checkpoint", model, "--suite", "manifest", "--manifest", dir.file("\(kind).jsonl").path,
                "--count", "5", "--json",
            ])
            XCTAssertNotNil(report[kind == "caption" ? "caption_bleu4" : "text_to_image_retrieval"], "\(report)")
        }
    }

    /// The JSON report of `arguments` under two ranks, checked equal to one process's (but for the time taken).
    func sameReport(_ arguments: [String], line: UInt = #line) throws -> [String: Any] {
        let two = try ReverieBinary.run(arguments, timeout: 300, launcher: Self.twoRanks)
        let one = try ReverieBinary.run(arguments, timeout: 300)
        XCTAssertTrue(two.succeeded, "\(two)", line: line)
        XCTAssertTrue(one.succeeded, "\(one)", line: line)
        var a = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(two.stdout.utf8)) as? [String: Any])
        var b = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        (a["seconds"], b["seconds"]) = (nil, nil)
        XCTAssertEqual(NSDictionary(dictionary: a), NSDictionary(dictionary: b), line: line)
        return a
    }

    func losses(_ run: URL) throws -> [Double] {
        try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap {
                (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["loss"] as? Double
            }
    }

    func assertSameWeights(_ a: URL, _ b: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try Checkpoint.read(from: a).model, y = try Checkpoint.read(from: b).model
        XCTAssertEqual(Set(x.keys), Set(y.keys), file: file, line: line)
        for (key, t) in x {
            let u = try XCTUnwrap(y[key])
            let worst = zip(t.toArray(), u.toArray()).map { abs($0 - $1) / max(abs($1), 1e-2) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-4, key, file: file, line: line)
        }
    }
}
