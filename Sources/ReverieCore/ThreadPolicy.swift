import CBLAS
import Dispatch
import Foundation

/// The one thread policy: OpenBLAS threads for large GEMMs, `concurrentPerform` for elementwise and batched work,
/// never both at full width at once (`withSerialBLAS` drops BLAS to one thread inside parallel regions).
///
/// Reverie's own loops split work at boundaries that depend only on the problem size, never on the thread count.
/// Threaded OpenBLAS GEMMs may differ in the last bits between thread counts, so runs are bit-identical for a given
/// thread count (docs/DESIGN.md §3); conv2d avoids threaded BLAS altogether and is identical for any count.
///
/// Parallel regions nest safely: code running inside a worker of `parallelFor` / `parallelItems` (which may itself
/// call ops that parallelise) runs its inner loops serially rather than oversubscribing the cores.
public enum ThreadPolicy {
    /// Worker threads: `REVERIE_THREADS`, else `OPENBLAS_NUM_THREADS`, else the active cores shared among the ranks
    /// `mpirun` started on this machine (`OMPI_COMM_WORLD_LOCAL_SIZE`), so that ranks never oversubscribe the cores.
    public static let threads: Int = {
        let env = ProcessInfo.processInfo.environment
        let localRanks = Swift.max(1, env["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1)
        let n =
            env["REVERIE_THREADS"].flatMap(Int.init) ?? env["OPENBLAS_NUM_THREADS"].flatMap(Int.init)
            ?? ProcessInfo.processInfo.activeProcessorCount / localRanks
        let threads = Swift.max(1, n)
        openblas_set_num_threads(Int32(threads))
        return threads
    }()

    /// Call once before timing anything so thread start-up is not measured.
    public static func configure() { _ = threads }

    /// Per-thread flag: set while a thread runs a parallel region's work item.
    private static let insideKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// True on a thread that is already executing inside a parallel region.
    public static var isInsideParallelRegion: Bool { pthread_getspecific(insideKey) != nil }

    /// Runs `iterations` calls of `body` concurrently, marking the worker threads as inside a parallel region.
    @usableFromInline
    static func concurrent(_ iterations: Int, _ body: (Int) -> Void) {
        let key = insideKey
        DispatchQueue.concurrentPerform(iterations: iterations) { i in
            let outer = pthread_getspecific(key)
            pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
            body(i)
            pthread_setspecific(key, outer)
        }
    }

    /// Runs `body` over `0..<count` split into chunks of about `grain` elements, in parallel when worthwhile.
    @inlinable
    public static func parallelFor(_ count: Int, grain: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let chunks = (count + grain - 1) / Swift.max(grain, 1)
        if chunks <= 1 || threads == 1 || isInsideParallelRegion {
            // Same chunk boundaries as the parallel path, so results do not depend on where this runs.
            if chunks <= 1 {
                body(0..<count)
                return
            }
            let size = (count + chunks - 1) / chunks
            for c in 0..<chunks where c * size < count { body(c * size..<Swift.min(count, c * size + size)) }
            return
        }
        let size = (count + chunks - 1) / chunks
        concurrent(chunks) { c in
            let lo = c * size
            let hi = Swift.min(count, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Runs `body(i)` for each of `count` independent items in parallel, BLAS limited to one thread meanwhile.
    public static func parallelItems(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || threads == 1 || isInsideParallelRegion {
            for i in 0..<count { body(i) }
            return
        }
        withSerialBLAS { concurrent(count, body) }
    }

    /// Runs `body` (a server, say) while the process runs `jobs` independent jobs side by side: with more than one,
    /// OpenBLAS keeps to one thread until `body` ends (then gets back the count it had), and each job runs inside
    /// `asOneOfManyJobs`, on its own thread.
    /// Small models gain more from whole requests on separate cores than from one request's ops split across them.
    public static func runningJobsSideBySide<T>(_ jobs: Int, _ body: () async throws -> T) async rethrows -> T {
        configure()
        guard jobs > 1 else { return try await body() }
        enterSerialBLAS()
        defer { leaveSerialBLAS() }
        return try await body()
    }

    /// How many scopes that want BLAS serial (`withSerialBLAS`, `runningJobsSideBySide`) are open, on any thread,
    /// and BLAS's thread count before the first opened. OpenBLAS's count is one global: two scopes that each saved
    /// and restored it could interleave (A saves 2, B saves 1, A restores 2, B restores 1) and leave BLAS serial.
    private static let serialBLAS = Locked((open: 0, saved: Int32(1)))

    private static func enterSerialBLAS() {
        serialBLAS.withLock { state in
            if state.open == 0 {
                state.saved = openblas_get_num_threads()
                openblas_set_num_threads(1)
            }
            state.open += 1
        }
    }

    private static func leaveSerialBLAS() {
        serialBLAS.withLock { state in
            state.open -= 1
            if state.open == 0 { openblas_set_num_threads(state.saved) }
        }
    }

    /// Runs `body` on the calling thread alone (its parallel loops run serially, as inside a parallel region): one of
    /// the jobs of `runningJobsSideBySide`.
    public static func asOneOfManyJobs<T>(_ body: () throws -> T) rethrows -> T {
        let outer = pthread_getspecific(insideKey)
        pthread_setspecific(insideKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(insideKey, outer) }
        return try body()
    }

    /// Runs `body` with OpenBLAS limited to one thread (for code that calls BLAS from several threads).
    /// Inside a parallel region BLAS is already serial and is left alone.
    public static func withSerialBLAS<T>(_ body: () throws -> T) rethrows -> T {
        configure()
        if isInsideParallelRegion { return try body() }
        enterSerialBLAS()
        defer { leaveSerialBLAS() }
        return try body()
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
