import XCTest

final class ReverieCoreTestsSmoke: XCTestCase {
    func testBuilds() {}
}
