import ArgumentParser
import Foundation
import ReverieCore
import ReverieDistributed

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput against the sgemm ceiling measured in the same run.",
        discussion: "Run release builds (`make bench`); debug numbers mean nothing.")

    static let suites = ["core", "data", "llm", "decoder", "stages", "allreduce", "parallel"]

    @Argument(
        help: ArgumentHelp(
            "Suite to run: core (kernels), data (image loading with/without prefetch), llm (Llama step), "
                + "decoder (UNet step, generation), stages (a training step of every stage of --recipe), "
                + "allreduce (the float32 gradient sum over the ranks of `mpirun -np N reverie bench allreduce`), "
                + "parallel (training steps of --stages of --recipe, alone or under mpirun, with the all-reduce's "
                + "share)."))
    var suite: String = "core"

    @Option(help: "The buffer the allreduce suite sums, in megabytes.")
    var megabytes: Double = 64

    @Option(help: "The pipeline recipe of the stages suite.")
    var recipe: String = "recipes/shapes/pipeline.yaml"

    @Option(help: "The stages of --recipe the parallel suite times, comma-separated.")
    var stages: String = "mllm,decoder"

    @Option(help: "Timed training steps per stage (parallel suite).")
    var steps: Int = 10

    @Flag(inversion: .prefixedNo, help: "Parallel suite: reduce gradient buckets while backward runs.")
    var overlap = true

    @Option(help: "Timed repeats per workload (the median is reported).")
    var repeats: Int = 5

    @Flag(help: "Print a JSON report.")
    var json = false

    /// `tiny` runs the llm suite on a toy model so tests can exercise it end to end; the numbers mean nothing.
    @Option(help: .hidden)
    var scale: String = "full"

    func validate() throws {
        guard Self.suites.contains(suite) else {
            throw ValidationError("unknown bench suite '\(suite)'; available: \(Self.suites.joined(separator: ", "))")
        }
        guard steps > 0, steps <= 100_000 else { throw ValidationError("--steps must be in 1...100000, got \(steps)") }
        guard (1...1000).contains(repeats) else {
            throw ValidationError("--repeats must be in 1...1000, got \(repeats)")
        }
        guard megabytes > 0, megabytes <= 16384 else {
            throw ValidationError("--megabytes must be in (0, 16384], got \(megabytes)")
        }
    }

    func run() throws {
        ThreadPolicy.configure()
        if suite == "allreduce" { return try runAllreduce() }
        if suite == "parallel" { return try runParallel() }
        if suite == "data" {
            return try print(
                report: BenchReport(
                    suite: suite, threads: ThreadPolicy.threads, ceilingGFLOPS: 0,
                    results: DataBench.run()))
        }
        let ceiling = SGEMMCeiling(n: scale == "tiny" ? 256 : 2048)
        let own = ceiling.measureSelf(repeats: repeats)
        var results = [own]
        switch suite {
        case "llm":
            results += try LLMBench.run(tiny: scale == "tiny", repeats: repeats, ceiling: ceiling)
        case "stages":
            results += try StageBench.run(pipeline: URL(fileURLWithPath: recipe), repeats: repeats, ceiling: ceiling)
        case "decoder":
            results.append(try DecoderBench.unetTrainingStep(repeats: repeats, ceiling: ceiling))
            results.append(try DecoderBench.generation(repeats: repeats, ceiling: ceiling))
        default:
            results.append(try CoreBench.mlpBlock(repeats: repeats, ceiling: ceiling))
            results.append(try CoreBench.attention(repeats: repeats, ceiling: ceiling))
            for (cin, cout, size) in [(64, 32, 32), (64, 64, 16), (128, 128, 8)] {
                results.append(
                    try CoreBench.conv3x3(
                        inChannels: cin, outChannels: cout, size: size, repeats: repeats,
                        ceiling: ceiling))
            }
        }
        try print(
            report: BenchReport(
                suite: suite, threads: ThreadPolicy.threads, ceilingGFLOPS: own.gflops,
                results: results))
    }

    /// Only rank 0 reports; a wrong sum on any rank fails the command on every rank.
    func runAllreduce() throws {
        let (report, comm) = try AllreduceBench.run(megabytes: megabytes, repeats: repeats)
        defer { (comm as? MPICommunicator)?.finish() }
        if comm.rank == 0 {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                Swift.print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                Swift.print(
                    "allreduce: \(report.ranks) ranks, \(report.bytes) bytes, \(String(format: "%.4f", report.seconds)) s, "
                        + "bus \(String(format: "%.2f", report.busGBps)) GB/s, \(report.correct ? "correct" : "WRONG")")
            }
        }
        guard report.correct else { throw ValidationError("the all-reduced sums are wrong") }
    }

    /// Only rank 0 reports.
    func runParallel() throws {
        let names = stages.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        let (report, comm) = try ParallelBench.run(
            pipeline: URL(fileURLWithPath: recipe), stages: names, steps: steps, overlap: overlap)
        defer { (comm as? MPICommunicator)?.finish() }
        guard comm.rank == 0 else { return }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            return Swift.print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
        Swift.print(
            "\(report.ranks) rank(s) × \(report.threadsPerRank) thread(s), overlap \(report.overlap ? "on" : "off")")
        for s in report.stages {
            Swift.print(
                s.stage.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(
                        format: " %8.2f ms/step  all-reduce waited %7.2f ms/step  %d trainable parameters",
                        s.secondsPerStep * 1e3, s.communicationSecondsPerStep * 1e3, s.trainableParameters))
        }
    }

    func print(report: BenchReport) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Swift.print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        Swift.print(
            "threads \(report.threads)"
                + (report.ceilingGFLOPS > 0
                    ? String(format: "; sgemm ceiling %.1f GFLOP/s", report.ceilingGFLOPS) : ""))
        for r in report.results {
            let name = r.name.padding(toLength: 48, withPad: " ", startingAt: 0)
            if let minutes = r.detail["stage_minutes"] {
                let cost =
                    r.detail["ceiling_gflop_per_step"].map {
                        String(
                            format: " %8.2f ms/step %7.1f steps/s  %6.0f steps = %5.1f min  %6.2f ceiling-GFLOP/step",
                            r.seconds * 1e3, 1 / r.seconds, r.detail["stage_steps"] ?? 0, minutes, $0)
                    }
                    ?? String(
                        format: " %5.1f min of training steps (%.1f ceiling-TFLOP)", minutes,
                        (r.detail["ceiling_gflop"] ?? 0) / 1e3)
                Swift.print(name + cost)
                continue
            }
            if let perSecond = r.detail["batches_per_s"] {
                Swift.print(name + String(format: " %9.2f ms/batch %8.1f batches/s", r.seconds * 1e3, perSecond))
                continue
            }
            let frac = r.fractionOfCeiling.map { String(format: "  %.2f of ceiling", $0) } ?? ""
            let rate =
                (r.detail["tokens_per_second"].map { String(format: "  %.0f tokens/s", $0) } ?? "")
                + (r.detail["samples_per_second"].map { String(format: "  %.1f samples/s", $0) } ?? "")
                + (r.detail["images_per_second"].map { String(format: "  %.2f images/s", $0) } ?? "")
            Swift.print(name + String(format: " %9.2f ms %8.1f GFLOP/s", r.seconds * 1e3, r.gflops) + frac + rate)
        }
    }
}

struct BenchReport: Codable {
    var suite: String
    var threads: Int
    var ceilingGFLOPS: Double
    var results: [BenchResult]
}
