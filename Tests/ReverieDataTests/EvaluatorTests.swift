import ReverieCore
import XCTest

@testable import ReverieData

/// The evaluator must be able to say no: wrong images score low, and each attribute is checked on its own.
final class EvaluatorTests: XCTestCase {
    let evaluator = Evaluator()

    func scene(_ text: String) throws -> Scene { try CaptionParser.parse(text) }

    func testEachWrongAttributeIsCaught() throws {
        let truth = try scene("a large red circle in the top left and a small blue triangle at the bottom, black")
        let cases: [(String, KeyPath<AttributeScores, Tally>)] = [
            ("a large red square in the top left and a small blue triangle at the bottom, black", \.shape),
            ("a large green circle in the top left and a small blue triangle at the bottom, black", \.color),
            ("a small red circle in the top left and a small blue triangle at the bottom, black", \.size),
            ("a large red circle in the top right and a small blue triangle at the bottom, black", \.position),
            ("a large red circle in the top left and a small blue triangle at the bottom, white", \.background),
        ]
        for (text, attribute) in cases {
            let s = evaluator.score(Rasterizer().render(try scene(text)), expected: truth)
            XCTAssertEqual(s[keyPath: attribute].correct, s[keyPath: attribute].total - 1, text)
            XCTAssertEqual(s.exact.correct, 0, text)
            for (name, t) in s.byName where name != "exact" && t != s[keyPath: attribute] {
                XCTAssertEqual(t.correct, t.total, "\(text): \(name) should be right")
            }
            XCTAssertFalse(evaluator.editIsCorrect(Rasterizer().render(try scene(text)), target: truth))
        }
    }

    /// Captions are scored attribute by attribute too: one wrong word costs one attribute, nonsense costs all.
    func testCaptionScoresEachAttribute() throws {
        let truth = try scene("a large red circle in the top left and a small blue triangle at the bottom, black")
        let right = evaluator.captionScore(
            "a small blue triangle at the bottom and a big red circle in the top left, "
                + "black", truth: truth)
        XCTAssertEqual(right.exact, Tally(correct: 1, total: 1))
        XCTAssertEqual(right.attributeAccuracy, 1)
        let wrongShape = evaluator.captionScore(
            "a large red circle in the top left and a small blue square at the bottom, black", truth: truth)
        XCTAssertEqual(wrongShape.shape, Tally(correct: 1, total: 2))
        XCTAssertEqual(wrongShape.color, Tally(correct: 2, total: 2))
        XCTAssertEqual(wrongShape.count, Tally(correct: 1, total: 1))
        XCTAssertEqual(wrongShape.exact, Tally(correct: 0, total: 1))
        let nonsense = evaluator.captionScore("circle circle red the", truth: truth)
        XCTAssertEqual(nonsense.shape, Tally(correct: 0, total: 2))
        XCTAssertEqual(nonsense.background, Tally(correct: 0, total: 1))
        XCTAssertEqual(nonsense.attributeAccuracy, 0)
    }

    /// Shape errors are split by the expected object's size and shape, and the split adds up like the rest.
    func testShapeByKindSplitsShapeErrors() throws {
        let truth = try scene("a large red circle in the top left and a small blue triangle at the bottom, black")
        let drawn = try scene("a large red circle in the top left and a small blue square at the bottom, black")
        let s = evaluator.score(Rasterizer().render(drawn), expected: truth)
        XCTAssertEqual(
            s.shapeByKind,
            [
                "large circle": Tally(correct: 1, total: 1),
                "small triangle": Tally(correct: 0, total: 1),
            ])
        let twice = s + evaluator.score(Rasterizer().render(truth), expected: truth)
        XCTAssertEqual(twice.shapeByKind["small triangle"], Tally(correct: 1, total: 2))
        XCTAssertEqual(twice.shapeByKind["large circle"], Tally(correct: 2, total: 2))
        let caption = evaluator.captionScore("circle circle red the", truth: truth)
        XCTAssertEqual(caption.shapeByKind["large circle"], Tally(correct: 0, total: 1))
    }

    func testMissingAndExtraObjectsCount() throws {
        let truth = try scene("a large red circle in the top left and a small blue triangle at the bottom, gray")
        let missing = evaluator.score(
            Rasterizer().render(try scene("a large red circle in the top left, gray")),
            expected: truth)
        XCTAssertEqual(missing.shape, Tally(correct: 1, total: 2))
        XCTAssertEqual(missing.count, Tally(correct: 0, total: 1))
        let extra = try scene(
            "a large red circle in the top left, a small blue triangle at the bottom and "
                + "a small yellow square in the center, gray")
        let s = evaluator.score(Rasterizer().render(extra), expected: truth)
        XCTAssertEqual(s.shape, Tally(correct: 2, total: 2))
        XCTAssertEqual(s.count, Tally(correct: 0, total: 1))
        XCTAssertEqual(s.exact, Tally(correct: 0, total: 1))
        XCTAssertTrue(evaluator.editIsCorrect(Rasterizer().render(truth), target: truth))
    }

    func testBlankImageFindsNothingAndReadsTheBackground() throws {
        let read = evaluator.reader.read(PlanarImage(size: 64, filledWith: BackgroundColor.white.rgb))
        XCTAssertEqual(read.background, .white)
        XCTAssertTrue(read.objects.isEmpty)
        XCTAssertThrowsError(try evaluator.score(Tensor(zeros: [1, 64, 64]), expected: try scene("white")))
    }

    func testOutOfRangeAndNaNPixelsAreClampedNotFatal() throws {
        let truth = try scene("a large red square in the center, white")
        var image = Rasterizer().render(truth)
        // Dead pixels (NaN in every channel, read as black), alone or in 2×2 clusters, are noise, not objects.
        for i in stride(from: 0, to: 4096, by: 97) { for c in 0..<3 { image.pixels[c * 4096 + i] = .nan } }
        for (x, y) in [(3, 3), (50, 8), (8, 52)] {
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                for c in 0..<3 { image.pixels[c * 4096 + (y + dy) * 64 + x + dx] = .nan }
            }
        }
        image.pixels[5] = .infinity
        image.pixels[6] = -3
        XCTAssertEqual(evaluator.reader.read(image).scene, truth)
        var garbage = PlanarImage(size: 64, filledWith: RGB(.nan, .nan, .nan))
        _ = evaluator.score(garbage, expected: truth)
        garbage.pixels = garbage.pixels.indices.map { Float($0 % 7) - 3 }
        _ = evaluator.score(garbage, expected: truth)
    }

    func testReadsOtherCanvasSizesAndSlightlyOffCentreObjects() throws {
        let world = ShapesWorld(seed: 8, canvas: 96)
        for i in 0..<50 {
            let s = world.scene(at: i)
            XCTAssertTrue(evaluator.reader.read(world.render(s)).matches(s))
        }
        // A model's drawing is rarely on the cell centre: shift a render by 3 pixels and it still reads the same.
        let s = try scene("a large purple triangle in the center and a small orange circle at the top left, white")
        let image = Rasterizer().render(s)
        var shifted = PlanarImage(size: 64, filledWith: BackgroundColor.white.rgb)
        for c in 0..<3 {
            for y in 0..<61 {
                for x in 0..<61 {
                    shifted.pixels[c * 4096 + (y + 3) * 64 + x + 3] = image.pixels[c * 4096 + y * 64 + x]
                }
            }
        }
        XCTAssertEqual(evaluator.reader.read(shifted).scene, s)
    }

    func testConnectedComponentsAreFourConnected() {
        // 1 1 0 0
        // 0 1 0 1
        // 0 0 1 1   ← (2,2) touches (1,1) only diagonally: a separate component.
        // 1 0 0 0
        let rows = ["1100", "0101", "0011", "1000"]
        let mask = rows.flatMap { $0.map { $0 == "1" } }
        let components = ConnectedComponents.label(mask, size: 4).map { $0.sorted() }
        XCTAssertEqual(components, [[0, 1, 5], [7, 10, 11], [12]])
    }

    func testBestPairingMaximisesAgreement() throws {
        let a = SceneObject(shape: .circle, color: .red, size: .small, cell: GridCell(index: 0))
        let b = SceneObject(shape: .square, color: .blue, size: .large, cell: GridCell(index: 4))
        let movedB = SceneObject(shape: .square, color: .blue, size: .large, cell: GridCell(index: 8))
        XCTAssertEqual(Evaluator.bestPairing([a, b], [movedB, a]), [1, 0])
        XCTAssertEqual(Evaluator.bestPairing([a, b], [a]), [0, nil])
    }
}
