import Foundation
import XCTest

/// Open MPI, loaded at run time: `mpirun -np 2 reverie bench allreduce` sums a buffer over two ranks and checks
/// every element; without mpirun the same command is a one-process job.
final class AllreduceBenchTests: XCTestCase {
    func testTwoRanksSumEveryElement() throws {
        let mpirun = "/usr/bin/mpirun"
        guard FileManager.default.isExecutableFile(atPath: mpirun) else {
            return XCTFail("\(mpirun) is missing: `make deps` installs openmpi-bin")
        }
        let run = try ReverieBinary.run(
            ["bench", "allreduce", "--megabytes", "4", "--repeats", "3", "--json"],
            launcher: [mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "2"])
        XCTAssertTrue(run.succeeded, "\(run)")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["ranks"] as? Int, 2, run.stdout)
        XCTAssertEqual(json["correct"] as? Bool, true, run.stdout)
        XCTAssertEqual(json["bytes"] as? Int, 4_000_000)
    }

    func testWithoutMpirunItIsOneProcess() throws {
        let run = try ReverieBinary.run(["bench", "allreduce", "--megabytes", "1", "--repeats", "1", "--json"])
        XCTAssertTrue(run.succeeded, "\(run)")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["ranks"] as? Int, 1)
        XCTAssertEqual(json["correct"] as? Bool, true)
    }
}
