import Foundation
import ReverieCore
import XCTest

@testable import ReverieIO

/// A symbolic link to a valid checkpoint or image is read as what it points to (it was refused as "not a regular
/// file"); a link loop is an error, not a crash.
final class SymlinkInputTests: XCTestCase {
    func testLinksAreFollowedAndLoopsRefused() throws {
        let scratch = try TemporaryDirectory(), dir = scratch.url
        defer { withExtendedLifetime(scratch) {} }
        let fm = FileManager.default
        let checkpoint = dir.appendingPathComponent("c.h5"), image = dir.appendingPathComponent("i.png")
        try Checkpoint(model: ["w": Tensor(repeating: 2, shape: [3])]).write(to: checkpoint)
        try Image(width: 2, height: 2, filledWith: [1, 0, 0]).writePNG(to: image)
        let (c, i) = (dir.appendingPathComponent("c-link.h5"), dir.appendingPathComponent("i-link.png"))
        try fm.createSymbolicLink(at: c, withDestinationURL: checkpoint)
        try fm.createSymbolicLink(at: i, withDestinationURL: image)
        XCTAssertEqual(try Checkpoint.read(from: c).model["w"]?.toArray(), [2, 2, 2])
        XCTAssertEqual(try Image(contentsOf: i).width, 2)
        let loop = dir.appendingPathComponent("loop.h5")
        try fm.createSymbolicLink(atPath: loop.path, withDestinationPath: loop.path)
        XCTAssertThrowsError(try Checkpoint.read(from: loop)) { XCTAssertTrue("\($0)".contains(loop.path), "\($0)") }
        XCTAssertThrowsError(try Image(contentsOf: loop)) { XCTAssertTrue("\($0)".contains(loop.path), "\($0)") }
    }
}
