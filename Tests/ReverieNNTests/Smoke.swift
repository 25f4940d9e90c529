import XCTest

final class ReverieNNTestsSmoke: XCTestCase {
    func testBuilds() {}
}
