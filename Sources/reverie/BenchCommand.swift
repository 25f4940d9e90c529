import ArgumentParser
import Foundation
import ReverieCore

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput against the sgemm ceiling measured in the same run.",
        discussion: "Run release builds (`make bench`); debug numbers mean nothing.")

    @Argument(help: "Suite to run: core, llm.")
    var suite: String = "core"

    @Option(help: "Timed repeats per workload (the median is reported).")
    var repeats: Int = 5

    @Flag(help: "Print a JSON report.")
    var json = false

    /// `tiny` runs the llm suite on a toy model so tests can exercise it end to end; the numbers mean nothing.
    @Option(help: .hidden)
    var scale: String = "full"

    func validate() throws {
        guard ["core", "llm"].contains(suite) else {
            throw ValidationError("unknown bench suite '\(suite)'; available: core, llm")
        }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        ThreadPolicy.configure()
        let ceiling = SGEMMCeiling(n: scale == "tiny" ? 256 : 2048)
        let own = ceiling.measureSelf(repeats: repeats)
        var results = [own]
        if suite == "llm" {
            results += try LLMBench.run(tiny: scale == "tiny", repeats: repeats, ceiling: ceiling)
        } else {
            results.append(try CoreBench.mlpBlock(repeats: repeats, ceiling: ceiling))
            results.append(try CoreBench.attention(repeats: repeats, ceiling: ceiling))
        }
        let report = BenchReport(suite: suite, threads: ThreadPolicy.threads, ceilingGFLOPS: own.gflops,
                                 results: results)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("threads \(report.threads); sgemm ceiling \(String(format: "%.1f", own.gflops)) GFLOP/s")
            for r in results {
                let frac = r.fractionOfCeiling.map { String(format: "  %.2f of ceiling", $0) } ?? ""
                let name = r.name.padding(toLength: 48, withPad: " ", startingAt: 0)
                let rate = r.detail["tokens_per_second"].map { String(format: "  %.0f tokens/s", $0) } ?? ""
                print(name + String(format: " %9.2f ms %8.1f GFLOP/s", r.seconds * 1e3, r.gflops) + frac + rate)
            }
        }
    }
}

struct BenchReport: Codable {
    var suite: String
    var threads: Int
    var ceilingGFLOPS: Double
    var results: [BenchResult]
}
