import Foundation
import XCTest

@testable import ReverieIO

/// A JPEG's EXIF orientation turns it upright exactly as Pillow's `ImageOps.exif_transpose` does
/// (`tools/fixtures/orientation.py`: one small photo saved with each orientation 1…8).
final class ImageOrientationTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/orientation")

    func testEveryOrientationMatchesPillow() throws {
        for n in 1...8 {
            let url = Self.folder.appendingPathComponent("o\(n).jpg")
            XCTAssertEqual(ImageOrientation.of(jpeg: [UInt8](try Data(contentsOf: url))).rawValue, n)
            let size = try XCTUnwrap(
                JSONSerialization.jsonObject(with: Data(contentsOf: Self.folder.appendingPathComponent("o\(n).json")))
                    as? [String: Int])
            let upright = try Image(uprightContentsOf: url).converted(to: .rgb)
            XCTAssertEqual([upright.width, upright.height], [size["width"], size["height"]].compactMap { $0 }, "\(n)")
            guard case let .uint8(pixels) = upright.pixels else { return XCTFail("8-bit expected") }
            XCTAssertEqual(
                pixels, [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent("o\(n).rgb"))),
                "orientation \(n)")
        }
    }

    func testNoOrDamagedOrientationIsUpright() {
        XCTAssertEqual(ImageOrientation.of(jpeg: []), .upright)
        XCTAssertEqual(ImageOrientation.of(jpeg: [0x89, 0x50, 0x4E, 0x47]), .upright)  // a PNG
        // An APP1 segment whose length runs past the end, and one whose TIFF offsets point nowhere.
        XCTAssertEqual(ImageOrientation.of(jpeg: [0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0x45]), .upright)
        let exif: [UInt8] = Array("Exif\0\0".utf8) + [0x49, 0x49, 42, 0, 0xFF, 0xFF, 0xFF, 0x7F]
        let bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, 0, UInt8(exif.count + 2)] + exif
        XCTAssertEqual(ImageOrientation.of(jpeg: bytes), .upright)
    }
}
