import ReverieCore
import XCTest

final class ConcurrentResultsTests: XCTestCase {
    /// Results come back in item order whichever worker ran them, each item exactly once.
    func testResultsInItemOrder() throws {
        let out = try ThreadPolicy.concurrentResults(100) { i -> Int in
            // Uneven work so that workers finish out of order.
            var x = 0
            for k in 0..<((100 - i) * 1000) { x &+= k }
            return i * i + (x == -1 ? 1 : 0)
        }
        XCTAssertEqual(out, (0..<100).map { $0 * $0 })
        XCTAssertEqual(try ThreadPolicy.concurrentResults(0) { $0 }, [])
    }

    /// The lowest failing item's error is the one rethrown.
    func testLowestItemsErrorIsRethrown() {
        struct Failure: Error, Equatable { let item: Int }
        XCTAssertThrowsError(
            try ThreadPolicy.concurrentResults(50) { i -> Int in
                if i == 13 || i == 31 || i == 47 { throw Failure(item: i) }
                return i
            }
        ) { XCTAssertEqual($0 as? Failure, Failure(item: 13)) }
    }
}
