import ReverieRuntime
import XCTest

@testable import ReverieTrain

/// The mllm stage draws each record's kind (and an edit's kind, with `data.edit_kinds`) by `ShapesSource.pick`.
final class WeightedPickTests: XCTestCase {
    func testSharesFollowTheWeightsInOrder() {
        let weights = [("caption", 2.0), ("edit", 0), ("move", 1), ("recolor", 1)]
        XCTAssertEqual(ShapesSource.pick(weights, u: 0), "caption")
        XCTAssertEqual(ShapesSource.pick(weights, u: 0.49), "caption")
        XCTAssertEqual(ShapesSource.pick(weights, u: 0.5), "move")  // a zero weight is never drawn
        XCTAssertEqual(ShapesSource.pick(weights, u: 0.74), "move")
        XCTAssertEqual(ShapesSource.pick(weights, u: 0.75), "recolor")
        XCTAssertEqual(ShapesSource.pick(weights, u: 0.999_999), "recolor")
        XCTAssertNil(ShapesSource.pick([], u: 0.3))
        var counts: [String: Int] = [:]
        for i in 0..<4000 { counts[ShapesSource.pick(weights, u: (Double(i) + 0.5) / 4000)!, default: 0] += 1 }
        XCTAssertEqual(counts, ["caption": 2000, "move": 1000, "recolor": 1000])
    }
}
