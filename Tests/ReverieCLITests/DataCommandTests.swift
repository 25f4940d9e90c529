import Foundation
import XCTest

/// `reverie data check-evaluator`, end to end through the binary.
final class DataCommandTests: XCTestCase {
    func testCheckEvaluatorReportsPerAttributeAccuracyAsJSON() throws {
        let result = try ReverieBinary.run(["data", "check-evaluator", "--count", "150", "--seed", "5", "--json"])
        XCTAssertTrue(result.succeeded, "\(result)")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["count"] as? Int, 150)
        let passes = try XCTUnwrap(json["passes"] as? [[String: Any]])
        XCTAssertEqual(passes.map { $0["name"] as? String }, ["clean", "degraded"])
        for p in passes {
            XCTAssertEqual(p["passed"] as? Bool, true, "\(p)")
            let accuracy = try XCTUnwrap(p["accuracy"] as? [String: Double])
            XCTAssertEqual(Set(accuracy.keys), ["shape", "color", "size", "position", "background", "count", "exact"])
            XCTAssertEqual((p["total"] as? [String: Int])?["background"], 150)
        }
    }

    func testCheckEvaluatorFailsBelowTheBarAndOnBadArguments() throws {
        let harsh = try ReverieBinary.run(
            ["data", "check-evaluator", "--count", "60", "--blur", "2.5", "--noise", "0.2"])
        XCTAssertFalse(harsh.succeeded, "\(harsh)")
        XCTAssertTrue(harsh.stdout.contains("FAIL"), "\(harsh)")
        let zero = try ReverieBinary.run(["data", "check-evaluator", "--count", "0"])
        XCTAssertFalse(zero.succeeded)
        XCTAssertTrue(zero.stderr.contains("--count must be positive"), "\(zero)")
        let help = try ReverieBinary.run(["data", "--help"])
        XCTAssertTrue(help.succeeded && help.stdout.contains("check-evaluator"), "\(help)")
    }
}
