import Foundation
import XCTest

@testable import ReverieIO

/// Bad image files give an error that names the file, never a crash.
final class ImageErrorTests: XCTestCase {
    private func assertFails(
        _ url: URL, _ check: (ImageError) -> Bool, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try Image(contentsOf: url), file: file, line: line) { error in
            guard let error = error as? ImageError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertTrue(check(error), "\(error)", file: file, line: line)
            XCTAssertTrue(
                error.description.contains(url.path), "message does not name the file: \(error)", file: file, line: line
            )
        }
    }

    func testMissingEmptyAndDirectory() throws {
        let directory = try temporaryDirectory()
        assertFails(directory.appendingPathComponent("nope.png")) {
            if case .fileNotFound = $0 { return true }
            return false
        }
        let empty = directory.appendingPathComponent("empty.jpg")
        try Data().write(to: empty)
        assertFails(empty) {
            if case .emptyFile = $0 { return true }
            return false
        }
        assertFails(URL(fileURLWithPath: "/dev/zero")) {
            if case .notAFile = $0 { return true }
            return false
        }
        assertFails(directory) {
            if case .notAFile = $0 { return true }
            return false
        }
    }

    func testNotAnImage() throws {
        let directory = try temporaryDirectory()
        let text = directory.appendingPathComponent("notes.png")
        try Data("hello, this is text\n".utf8).write(to: text)
        assertFails(text) {
            if case .unsupportedFormat(_, "text") = $0 { return true }
            return false
        }
        let gif = directory.appendingPathComponent("anim.jpg")
        try Data([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0, 0]).write(to: gif)
        assertFails(gif) {
            if case .unsupportedFormat(_, "a GIF image") = $0 { return true }
            return false
        }
    }

    /// Every prefix length class of a PNG and a baseline/progressive JPEG, and flipped bytes in the middle.
    func testTruncatedAndCorrupt() throws {
        let directory = try temporaryDirectory()
        for name in ["chelsea.png", "china.jpg", "chelsea_progressive.jpg", "astronaut_palette.png"] {
            let bytes = [UInt8](try Data(contentsOf: PhotoFixture.directory.appendingPathComponent(name)))
            for fraction in [0.002, 0.05, 0.5, 0.9, 0.999] {
                let url = directory.appendingPathComponent("cut_\(fraction)_\(name)")
                try Data(bytes.prefix(max(4, Int(Double(bytes.count) * fraction)))).write(to: url)
                assertFails(url) {
                    if case .corruptFile = $0 { return true }
                    return false
                }
            }
            // Header damage: an invalid dimension / marker right after the signature.
            var corrupt = bytes
            for i in 12..<40 { corrupt[i] ^= 0x5A }
            let url = directory.appendingPathComponent("corrupt_\(name)")
            try Data(corrupt).write(to: url)
            assertFails(url) {
                if case .corruptFile = $0 { return true }
                return false
            }
        }
    }

    /// Random damage anywhere must never crash: either an error or some image.
    func testRandomDamageNeverCrashes() throws {
        let directory = try temporaryDirectory()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        for name in ["coffee.png", "rocket.jpg", "chelsea_progressive.jpg"] {
            let bytes = [UInt8](try Data(contentsOf: PhotoFixture.directory.appendingPathComponent(name)))
            for trial in 0..<8 {
                var damaged = bytes
                for _ in 0..<16 { damaged[8 + next() % (bytes.count - 8)] = UInt8(truncatingIfNeeded: next()) }
                let url = directory.appendingPathComponent("damaged_\(trial)_\(name)")
                try Data(damaged).write(to: url)
                do { _ = try Image(contentsOf: url) } catch let error as ImageError {
                    XCTAssertTrue(error.description.contains(url.path), "\(error)")
                }
            }
        }
    }
}
