import ReverieCore
import XCTest

@testable import ReverieDiffusion

final class TimestepSkewTests: XCTestCase {
    /// Power 1 keeps the uniform draw (one generator step per timestep, so old runs reproduce); power p has mean
    /// T·p / (p + 1) and stays inside 0..<T.
    func testSkewedTimestepsFollowTheirDistribution() {
        var a = RNG(seed: 7), b = RNG(seed: 7)
        XCTAssertEqual(trainingTimesteps(5, of: 1000, power: 1, rng: &a), (0..<5).map { _ in Int(b.next() % 1000) })
        for power in [1.0, 2, 3] {
            var rng = RNG(seed: 11)
            let ts = trainingTimesteps(20000, of: 1000, power: power, rng: &rng)
            XCTAssertTrue(ts.allSatisfy { (0..<1000).contains($0) })
            let mean = Double(ts.reduce(0, +)) / Double(ts.count)
            XCTAssertEqual(mean, 1000 * power / (power + 1) - 0.5, accuracy: 6, "power \(power)")
            let high = Double(ts.filter { $0 >= 700 }.count) / Double(ts.count)
            XCTAssertEqual(high, 1 - pow(0.7, power), accuracy: 0.01, "power \(power)")
        }
    }
}
