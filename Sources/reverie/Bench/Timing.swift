import Dispatch

/// Wall-clock timing for benchmarks.
///
/// The machine is shared and noisy, so each workload run is paired with an sgemm run right before it, and the
/// reported fraction is the median of the per-pair ratios: drift between pairs cancels out.
enum Timing {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }

    /// Runs `ceiling` then `body` `repeats` times after one untimed warm-up of each, returning the median seconds
    /// of `body`, the median ceiling seconds, and the median of the per-pair time ratios ceiling/body.
    static func paired(repeats: Int, ceiling: () throws -> Void, _ body: () throws -> Void) rethrows
        -> (seconds: Double, ceilingSeconds: Double, pairRatio: Double)
    {
        try ceiling()
        try body()
        var times: [Double] = [], ceilings: [Double] = [], ratios: [Double] = []
        for _ in 0..<Swift.max(1, repeats) {
            let c = try seconds(ceiling)
            let t = try seconds(body)
            times.append(t)
            ceilings.append(c)
            ratios.append(c / t)
        }
        return (median(times), median(ceilings), median(ratios))
    }
}
