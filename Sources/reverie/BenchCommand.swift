import ArgumentParser
import Foundation
import ReverieCore

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput against the sgemm ceiling measured in the same run.",
        discussion: "Run release builds (`make bench`); debug numbers mean nothing.")

    @Argument(help: "Suite to run: core or decoder.")
    var suite: String = "core"

    @Option(help: "Timed repeats per workload (the median is reported).")
    var repeats: Int = 5

    @Flag(help: "Print a JSON report.")
    var json = false

    func validate() throws {
        guard ["core", "decoder"].contains(suite) else {
            throw ValidationError("unknown bench suite '\(suite)'; available: core, decoder")
        }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        ThreadPolicy.configure()
        let ceiling = SGEMMCeiling()
        let own = ceiling.measureSelf(repeats: repeats)
        var results = [own]
        if suite == "decoder" {
            results.append(try DecoderBench.unetTrainingStep(repeats: repeats, ceiling: ceiling))
            results.append(try DecoderBench.generation(repeats: repeats, ceiling: ceiling))
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
                let detail = r.detail.sorted { $0.key < $1.key }
                    .map { "  \($0.key) " + String(format: "%.2f", $0.value) }.joined()
                print(name + String(format: " %9.2f ms %8.1f GFLOP/s", r.seconds * 1e3, r.gflops) + frac + detail)
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
