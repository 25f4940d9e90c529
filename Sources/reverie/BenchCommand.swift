import ArgumentParser
import Foundation
import ReverieCore

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput against the sgemm ceiling measured in the same run.",
        discussion: "Run release builds (`make bench`); debug numbers mean nothing.")

    @Argument(help: "Suite to run: core (kernels vs the sgemm ceiling) or data (image loading, with/without prefetch).")
    var suite: String = "core"

    @Option(help: "Timed repeats per workload (the median is reported).")
    var repeats: Int = 5

    @Flag(help: "Print a JSON report.")
    var json = false

    func validate() throws {
        guard ["core", "data"].contains(suite) else {
            throw ValidationError("unknown bench suite '\(suite)'; available: core, data")
        }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        ThreadPolicy.configure()
        if suite == "data" { return try print(report: BenchReport(suite: suite, threads: ThreadPolicy.threads,
                                                                   ceilingGFLOPS: 0, results: DataBench.run())) }
        let ceiling = SGEMMCeiling()
        let own = ceiling.measureSelf(repeats: repeats)
        var results = [own]
        results.append(try CoreBench.mlpBlock(repeats: repeats, ceiling: ceiling))
        results.append(try CoreBench.attention(repeats: repeats, ceiling: ceiling))
        try print(report: BenchReport(suite: suite, threads: ThreadPolicy.threads, ceilingGFLOPS: own.gflops,
                                      results: results))
    }

    func print(report: BenchReport) throws {
        let results = report.results
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Swift.print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            Swift.print("threads \(report.threads)" + (report.ceilingGFLOPS > 0
                ? String(format: "; sgemm ceiling %.1f GFLOP/s", report.ceilingGFLOPS) : ""))
            for r in results {
                let name = r.name.padding(toLength: 48, withPad: " ", startingAt: 0)
                if let perSecond = r.detail["batches_per_s"] {
                    Swift.print(name + String(format: " %9.2f ms/batch %8.1f batches/s", r.seconds * 1e3, perSecond))
                    continue
                }
                let frac = r.fractionOfCeiling.map { String(format: "  %.2f of ceiling", $0) } ?? ""
                Swift.print(name + String(format: " %9.2f ms %8.1f GFLOP/s", r.seconds * 1e3, r.gflops) + frac)
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
