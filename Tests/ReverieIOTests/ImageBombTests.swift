import Foundation
import XCTest

@testable import ReverieIO

/// A header that declares a huge canvas is refused before anything is decoded, naming the file, the declared size
/// and the limit (the fuzzer's 32768 × 32768 PNG and JPEG decompression bombs).
final class ImageBombTests: XCTestCase {
    func testAHugeDeclaredPNGIsRefusedBeforeDecoding() throws {
        var bytes = try Image(width: 4, height: 3, filledWith: [0.5, 0.2, 0.9]).encodePNG()
        // IHDR: length (4), "IHDR" (4), width (4), height (4), … then a CRC over type and data.
        let ihdr = 8
        XCTAssertEqual(Array(bytes[(ihdr + 4)..<(ihdr + 8)]), Array("IHDR".utf8))
        for (offset, value) in [(ihdr + 8, UInt32(32768)), (ihdr + 12, UInt32(32768))] {
            for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (24 - 8 * k)) }
        }
        let crc = crc32(bytes[(ihdr + 4)..<(ihdr + 8 + 13)])
        for k in 0..<4 { bytes[ihdr + 21 + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * k)) }
        XCTAssertThrowsError(try Image(encoded: bytes, path: "bomb.png")) { error in
            XCTAssertEqual(
                error as? ImageError,
                .tooManyPixels(path: "bomb.png", width: 32768, height: 32768, limit: ImageLimits.maxPixels))
            XCTAssertTrue("\(error)".contains("bomb.png declares 32768×32768"), "\(error)")
        }
    }

    func testAHugeDeclaredJPEGIsRefusedBeforeDecoding() throws {
        let photo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/photos/camera_gray.jpg")
        var bytes = [UInt8](try Data(contentsOf: photo))
        // The frame header (SOF0…SOF2): marker, length (2), precision (1), height (2), width (2).
        let sof = try XCTUnwrap(
            (0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && (0xC0...0xC2).contains(bytes[$0 + 1]) })
        for offset in [sof + 5, sof + 7] { (bytes[offset], bytes[offset + 1]) = (0x7F, 0xFF) }  // 32767
        XCTAssertThrowsError(try Image(encoded: bytes, path: "bomb.jpg")) { error in
            XCTAssertEqual(
                error as? ImageError,
                .tooManyPixels(path: "bomb.jpg", width: 32767, height: 32767, limit: ImageLimits.maxPixels))
        }
        XCTAssertNoThrow(try Image(contentsOf: photo), "the unmodified photo decodes")
    }
}

/// PNG's CRC-32 (ISO 3309) over `bytes`.
func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}
