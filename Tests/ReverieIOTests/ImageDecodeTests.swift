import Foundation
import XCTest

@testable import ReverieIO

final class ImageDecodeTests: XCTestCase {
    /// Every fixture decodes to exactly Pillow's pixels (PNG of every layout, baseline/progressive/gray JPEG).
    func testDecodeMatchesPillowExactly() throws {
        let fixtures = try PhotoFixture.all()
        XCTAssertGreaterThanOrEqual(fixtures.count, 12)
        for fixture in fixtures {
            let image = try Image(contentsOf: fixture.url)
            XCTAssertEqual(image.width, fixture.width, fixture.file)
            XCTAssertEqual(image.height, fixture.height, fixture.file)
            XCTAssertEqual(image.channels.count, fixture.channels, fixture.file)
            XCTAssertEqual(image.isUInt8, fixture.bitDepth == 8, fixture.file)
            let expected = try fixture.referenceSamples()
            let actual = image.floats
            XCTAssertEqual(actual.count, expected.count, fixture.file)
            let mismatches = zip(actual, expected).filter { $0 != $1 }.count
            XCTAssertEqual(mismatches, 0, "\(fixture.file): \(mismatches) samples differ from Pillow")
        }
    }

    /// Decoding goes by magic bytes: a JPEG named .png still decodes.
    func testWrongExtensionDecodesByMagicBytes() throws {
        let directory = try temporaryDirectory()
        let misnamed = directory.appendingPathComponent("really_a_jpeg.png")
        try FileManager.default.copyItem(at: PhotoFixture.directory.appendingPathComponent("china.jpg"), to: misnamed)
        let image = try Image(contentsOf: misnamed)
        let original = try Image(contentsOf: PhotoFixture.directory.appendingPathComponent("china.jpg"))
        XCTAssertEqual(image, original)
    }

    func testPNGRoundTripKeepsEveryLayoutAndDepth() throws {
        let directory = try temporaryDirectory()
        for name in ["astronaut.png", "camera.png", "camera_gray_alpha.png", "flower_rgba.png", "coffee_gray16.png"] {
            let image = try Image(contentsOf: PhotoFixture.directory.appendingPathComponent(name))
            let url = directory.appendingPathComponent("copy_" + name)
            try image.writePNG(to: url)
            try image.writePNG(to: url)  // replacing an existing file
            XCTAssertEqual(try Image(contentsOf: url), image, name)
        }
    }

    func testTensorRoundTripAndNormalize() throws {
        let image = try Image(contentsOf: PhotoFixture.directory.appendingPathComponent("chelsea.png"))
        let t = image.tensor()
        XCTAssertEqual(t.shape, [3, image.height, image.width])
        XCTAssertEqual(t[1, 5, 7], image[y: 5, x: 7, c: 1])
        XCTAssertEqual(try Image(tensor: t), image)
        let n = try image.tensor(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
        XCTAssertEqual(n[2, 3, 4], (image[y: 3, x: 4, c: 2] - 0.5) / 0.5, accuracy: 1e-6)
        XCTAssertThrowsError(try image.tensor(mean: [0.5], std: [0.5]))
        let flipped = try Image(tensor: t.copy())
        let batch = try Image.batchTensor([image, flipped])
        XCTAssertEqual(batch.shape, [2, 3, image.height, image.width])
        XCTAssertEqual(batch[1, 2, 3, 4], t[2, 3, 4])
        XCTAssertThrowsError(try Image.batchTensor([image, image.converted(to: .gray)]))
    }

    func testConversionsFollowPillow() throws {
        let rgb = try Image(width: 1, height: 1, channels: .rgb, pixels: .uint8([200, 100, 50]))
        // Pillow: L = (200·19595 + 100·38470 + 50·7471 + 0x8000) >> 16 = 124
        XCTAssertEqual(rgb.converted(to: .gray).bytes, [124])
        XCTAssertEqual(rgb.converted(to: .rgba).bytes, [200, 100, 50, 255])
        let gray = try Image(width: 1, height: 1, channels: .grayAlpha, pixels: .uint8([9, 30]))
        XCTAssertEqual(gray.converted(to: .rgb).bytes, [9, 9, 9])
    }

    func testCenterCropAndGrid() throws {
        let image = try Image(contentsOf: PhotoFixture.directory.appendingPathComponent("coffee.png"))
        let crop = try image.centerCropped(width: 100, height: 64)
        let left = Int((Double(image.width - 100) / 2).rounded(.toNearestOrEven))
        let top = Int((Double(image.height - 64) / 2).rounded(.toNearestOrEven))
        XCTAssertEqual(crop[y: 0, x: 0, c: 0], image[y: top, x: left, c: 0])
        XCTAssertEqual(image.centerSquare().width, min(image.width, image.height))
        XCTAssertThrowsError(try image.centerCropped(width: image.width + 1, height: 10))

        let gray = try Image(contentsOf: PhotoFixture.directory.appendingPathComponent("camera.png"))
        let sheet = try ImageGrid.make([crop, gray, crop], columns: 2, padding: 3, background: [0, 0, 0])
        let cell = max(crop.width, gray.width)
        XCTAssertEqual(sheet.width, 2 * cell + 3 * 3)
        XCTAssertEqual(sheet.channels, .rgb)
        XCTAssertEqual(sheet[y: 0, x: 0, c: 0], 0)
        let url = try temporaryDirectory().appendingPathComponent("sheet.png")
        try ImageGrid.write([crop, gray], columns: 2, to: url)
        XCTAssertEqual(try Image(contentsOf: url).height, max(crop.height, gray.height) + 4)
    }
}

extension XCTestCase {
    /// A fresh directory under the system temporary directory, removed when the test ends.
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-image-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
