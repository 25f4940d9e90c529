import ReverieCore
@testable import ReverieData
import XCTest

/// The suite with oracle models (which must score 100 %) and flawed ones (which must not).
final class ShapesSuiteTests: XCTestCase {
    let suite = ShapesSuite(world: ShapesWorld(seed: 31), count: 60)

    func testAnOracleModelScoresFull() throws {
        let reader = SceneReader(), rasterizer = Rasterizer()
        var rng = RNG(seed: 0)
        let report = try suite.run(
            caption: { image in
                guard let scene = reader.read(image).scene else { return "" }
                return CaptionWriter.caption(scene, rng: &rng)
            },
            generate: { prompt in rasterizer.render(try CaptionParser.parse(prompt)) },
            edit: { image, instruction in
                let source = try XCTUnwrap(reader.read(image).scene)
                return rasterizer.render(try EditParser.apply(instruction, to: source))
            },
            reconstruct: { $0 },
            editOracle: { _, target in target })
        XCTAssertEqual(report.captionExactMatch, Tally(correct: 60, total: 60))
        XCTAssertEqual(report.textToImage.attributeAccuracy, 1)
        XCTAssertEqual(report.edit, Tally(correct: 60, total: 60))
        XCTAssertEqual(report.twoTurnEdit, Tally(correct: 60, total: 60))
        XCTAssertEqual(Set(report.editByKind.keys), Set(EditKind.allCases.map(\.rawValue)))
        XCTAssertEqual(report.reconstruction.exact, Tally(correct: 60, total: 60))
        XCTAssertEqual(report.editFailures, [])
        XCTAssertEqual(report.editOracle, Tally(correct: 60, total: 60))
        XCTAssertEqual(Set(report.editOracleByKind.keys), Set(EditKind.allCases.map(\.rawValue)))
    }

    func testFlawedModelsScoreLow() throws {
        let blank = PlanarImage(size: 64, filledWith: BackgroundColor.white.rgb)
        let report = try suite.run(caption: { _ in "a small red circle in the center on a white background" },
                                   generate: { _ in blank }, edit: { image, _ in image },
                                   editOracle: { source, _ in source })
        XCTAssertLessThan(report.captionExactMatch.accuracy, 0.1)
        XCTAssertEqual(report.textToImage.shape.correct, 0)
        XCTAssertEqual(report.textToImage.count.correct, 0)
        // Returning the source unchanged never satisfies an edit.
        XCTAssertEqual(report.edit.correct, 0)
        // Each miss is listed with what was wanted and what the evaluator read (here: the source, unchanged).
        XCTAssertEqual(report.editFailures.map(\.item), Array(0..<60))
        let first = suite.world.edit(at: 0)
        XCTAssertEqual(report.editFailures[0],
                       EditFailure(item: 0, kind: first.kind.rawValue, instruction: first.instruction,
                                   source: first.source.summary, wanted: first.target.summary,
                                   got: first.source.summary, oracleMissed: true))
        XCTAssertEqual(report.twoTurnEdit, Tally(correct: 0, total: 60))
        // The oracle edit is scored on the image it is handed back, not on the target it was given; each listed
        // miss says whether the oracle missed it too.
        XCTAssertEqual(report.editOracle, Tally(correct: 0, total: 60))
        XCTAssertEqual(report.reconstruction, AttributeScores(), "skipped capabilities are not scored")
    }
}
