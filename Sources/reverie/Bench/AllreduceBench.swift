import Foundation
import ReverieDistributed

/// `reverie bench allreduce` under `mpirun -np N`: the time of one in-place float32 sum over all ranks of a buffer of
/// gradient size, and whether every element came out as the sum of what the ranks put in (rank r puts r + 1 + i mod
/// 7, so the sum is known). Outside mpirun it measures the single-process job (no communication).
struct AllreduceReport: Codable {
    var ranks: Int
    var bytes: Int
    /// Median seconds of one all-reduce.
    var seconds: Double
    /// Ring all-reduce bus bandwidth, 2(N − 1)/N · bytes / seconds, in GB/s (0 for one rank).
    var busGBps: Double
    var correct: Bool
}

enum AllreduceBench {
    static func run(megabytes: Double, repeats: Int) throws -> (AllreduceReport, any Communicator) {
        let comm = try DistributedLaunch.communicator()
        let count = max(1, Int(megabytes * 1_000_000 / 4))
        var buffer = [Float](repeating: 0, count: count)
        let n = comm.size
        var correct = true
        var times: [Double] = []
        for attempt in 0...repeats {  // the first is a warm-up, and the one checked
            for i in 0..<count { buffer[i] = Float(comm.rank + 1 + i % 7) }
            try comm.barrier()
            let seconds = try Timing.seconds { try buffer.withUnsafeMutableBufferPointer { try comm.allreduceSum($0) } }
            if attempt == 0 {
                let total = n * (n + 1) / 2
                for i in 0..<count where buffer[i] != Float(total + n * (i % 7)) { correct = false }
            } else {
                times.append(seconds)
            }
        }
        // The mean over ranks of each rank's median, and whether any rank saw a wrong sum.
        var summed = [Timing.median(times), correct ? 0 : 1]
        try summed.withUnsafeMutableBufferPointer { try comm.allreduceSum($0) }
        let (seconds, bytes) = (summed[0] / Double(n), count * 4)
        let bus = n > 1 ? 2 * Double(n - 1) / Double(n) * Double(bytes) / seconds / 1e9 : 0
        return (
            AllreduceReport(ranks: n, bytes: bytes, seconds: seconds, busGBps: bus, correct: summed[1] == 0), comm
        )
    }
}
