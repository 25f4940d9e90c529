import CBLAS
import ReverieCore
import XCTest

/// `ThreadPolicy.runningJobsSideBySide`: jobs run serially on their own threads, BLAS keeps to one thread while the
/// scope is open (nested scopes included) and gets its threads back after, and results do not change.
final class JobsSideBySideTests: XCTestCase {
    func testJobsRunSeriallyAndBLASGetsItsThreadsBack() async throws {
        let before = openblas_get_num_threads()
        var rng = RNG(seed: 1)
        let a = Tensor.randn([96, 80], rng: &rng), b = Tensor.randn([80, 72], rng: &rng)
        let alone = try matmul(a, b).toArray()
        let (inside, insideJob, nested) = try await ThreadPolicy.runningJobsSideBySide(2) {
            let nested = await ThreadPolicy.runningJobsSideBySide(2) { openblas_get_num_threads() }
            let job = try ThreadPolicy.asOneOfManyJobs { () -> (Bool, [Float]) in
                (ThreadPolicy.isInsideParallelRegion, try matmul(a, b).toArray())
            }
            return (openblas_get_num_threads(), job, nested)
        }
        XCTAssertEqual(inside, 1)
        XCTAssertEqual(nested, 1)
        XCTAssertTrue(insideJob.0, "a job's own parallel loops run serially")
        XCTAssertFalse(ThreadPolicy.isInsideParallelRegion)
        XCTAssertEqual(openblas_get_num_threads(), before)
        for (x, y) in zip(insideJob.1, alone) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(y))) }
        let one = await ThreadPolicy.runningJobsSideBySide(1) { openblas_get_num_threads() }
        XCTAssertEqual(one, before, "one job keeps every thread")
    }

    /// Two threads' `withSerialBLAS` scopes overlap, the first closing while the second is open: BLAS stays serial
    /// until both have closed, then has the count it had before either (a save and restore per scope left it at 1).
    func testOverlappingSerialScopesOnTwoThreadsRestoreTheCount() {
        ThreadPolicy.configure()
        let before = openblas_get_num_threads()
        openblas_set_num_threads(2)
        defer { openblas_set_num_threads(before) }
        let firstIn = DispatchSemaphore(value: 0), secondIn = DispatchSemaphore(value: 0)
        let firstOut = DispatchSemaphore(value: 0), secondDone = DispatchSemaphore(value: 0)
        let seen = SharedLog<Int32>([])
        Thread.detachNewThread {
            ThreadPolicy.withSerialBLAS {
                firstIn.signal()
                secondIn.wait()
            }
            firstOut.signal()
        }
        Thread.detachNewThread {
            firstIn.wait()
            ThreadPolicy.withSerialBLAS {
                secondIn.signal()
                firstOut.wait()
                seen.append(openblas_get_num_threads())
            }
            secondDone.signal()
        }
        XCTAssertEqual(secondDone.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(seen.values, [1], "the second scope is still open after the first closed: BLAS stays serial")
        XCTAssertEqual(openblas_get_num_threads(), 2, "both closed: BLAS has its two threads back")
    }
}

/// An array appended to from several threads.
private final class SharedLog<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Element]
    init(_ items: [Element]) { self.items = items }
    func append(_ item: Element) { lock.withLock { items.append(item) } }
    var values: [Element] { lock.withLock { items } }
}
