import XCTest

final class ReverieIOTestsSmoke: XCTestCase {
    func testBuilds() {}
}
