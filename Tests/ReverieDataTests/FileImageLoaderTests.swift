import Foundation
import ReverieCore
import ReverieIO
import XCTest

@testable import ReverieData

final class FileImageLoaderTests: XCTestCase {
    private let photos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/photos")

    func testLoadsFilesAndNamesBadOnes() throws {
        let loader = FileImageLoader(size: 64)
        for name in ["china.jpg", "camera.png", "flower_rgba.png", "coffee_gray16.png"] {
            let t = try loader.load(.file(photos.appendingPathComponent(name)))
            XCTAssertEqual(t.shape, [3, 64, 64], name)
            XCTAssertTrue(t.toArray().allSatisfy { $0 >= 0 && $0 <= 1 }, name)
        }
        let missing = photos.appendingPathComponent("missing.png")
        XCTAssertThrowsError(try loader.load(.file(missing))) { error in
            guard case DatasetError.badImage(let file, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, missing.path)
        }
        // Scenes render, files decode, through one loader.
        let mixed = SceneImageLoader(files: loader)
        XCTAssertEqual(try mixed.load(.file(photos.appendingPathComponent("rocket.jpg"))).shape, [3, 64, 64])
    }

    func testShapesWorldRenderRoundTripsThroughPNG() throws {
        let planar = Rasterizer().render(ShapesWorld(seed: 3).scene(at: 0))
        let image = try Image(tensor: planar.tensor())
        XCTAssertEqual(image.bytes, planar.rgbBytes())
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "reverie-scene-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try image.writePNG(to: url)
        XCTAssertEqual(try Image(contentsOf: url), image)
    }

    func testTokenizerAsTextEncoder() throws {
        let tokenizer = try TokenizerTrainer(vocabularySize: 300).train(on: ["a red circle", "a blue square"])
        let encoder = try TokenizerTextEncoder(tokenizer)
        XCTAssertEqual(
            [encoder.imageToken, encoder.imageBeginToken, encoder.padToken, encoder.endToken], [0, 1, 3, 4])
        XCTAssertEqual(encoder.encode("<image> a red circle<eos>").first, 0)
        XCTAssertEqual(encoder.encode("<image> a red circle<eos>").last, 4)
        XCTAssertThrowsError(
            try TokenizerTextEncoder(TokenizerTrainer(vocabularySize: 260, specialTokens: []).train(on: ["x"])))
    }
}
