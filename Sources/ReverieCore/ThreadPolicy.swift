import CBLAS
import Dispatch
import Foundation

/// The one thread policy: OpenBLAS threads for large GEMMs, `concurrentPerform` for elementwise and batched work,
/// never both at full width at once (`withSerialBLAS` drops BLAS to one thread inside parallel regions).
///
/// Work is split into chunks whose boundaries depend only on the problem size, never on the thread count, so
/// results are bit-identical for any number of threads.
public enum ThreadPolicy {
    /// Worker threads: `REVERIE_THREADS`, else `OPENBLAS_NUM_THREADS`, else the number of active cores.
    public static let threads: Int = {
        let env = ProcessInfo.processInfo.environment
        let n = env["REVERIE_THREADS"].flatMap(Int.init) ?? env["OPENBLAS_NUM_THREADS"].flatMap(Int.init)
            ?? ProcessInfo.processInfo.activeProcessorCount
        let threads = Swift.max(1, n)
        openblas_set_num_threads(Int32(threads))
        return threads
    }()

    /// Call once before timing anything so thread start-up is not measured.
    public static func configure() { _ = threads }

    /// Runs `body` over `0..<count` split into chunks of about `grain` elements, in parallel when worthwhile.
    @inlinable
    public static func parallelFor(_ count: Int, grain: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let chunks = (count + grain - 1) / Swift.max(grain, 1)
        if chunks <= 1 || threads == 1 {
            body(0..<count)
            return
        }
        let size = (count + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * size
            let hi = Swift.min(count, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Runs `body(i)` for each of `count` independent items in parallel, BLAS limited to one thread meanwhile.
    public static func parallelItems(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || threads == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withSerialBLAS {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        }
    }

    /// Runs `body` with OpenBLAS limited to one thread (for code that calls BLAS from several threads).
    public static func withSerialBLAS<T>(_ body: () throws -> T) rethrows -> T {
        configure()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(threads)) }
        return try body()
    }
}
