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
}
