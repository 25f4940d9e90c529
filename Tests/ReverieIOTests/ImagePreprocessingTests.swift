import Foundation
import XCTest

@testable import ReverieIO

final class ImagePreprocessingTests: XCTestCase {
    func testStretchAndCenterCrop() throws {
        let url = PhotoFixture.directory.appendingPathComponent("camera_gray_alpha.png")
        let image = try Image(contentsOf: url)
        let stretch = ImagePreprocessing(size: 32, fit: .stretch, filter: .bilinear)
        let t = try stretch.load(url)
        XCTAssertEqual(t.shape, [3, 32, 32])
        XCTAssertEqual(
            t.toArray(), try image.rgb().resized(width: 32, height: 32, filter: .bilinear).tensor().toArray())

        let chelsea = try Image(contentsOf: PhotoFixture.directory.appendingPathComponent("chelsea.png"))
        let clip = ImagePreprocessing(
            size: 48, fit: .shorterSideThenCenterCrop, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
        let c = try clip(chelsea)
        XCTAssertEqual(c.shape, [3, 48, 48])
        let expected = try chelsea.resized(shorterSide: 48).centerCropped(width: 48, height: 48)
        XCTAssertEqual(c[1, 10, 20], expected[y: 10, x: 20, c: 1] * 2 - 1, accuracy: 1e-6)
        XCTAssertThrowsError(try clip.load(URL(fileURLWithPath: "/nonexistent.png")))
    }
}
