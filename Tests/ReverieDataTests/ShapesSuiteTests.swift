import ReverieCore
import XCTest

@testable import ReverieData

/// The suite with oracle models (which must score 100 %) and flawed ones (which must not).
final class ShapesSuiteTests: XCTestCase {
    let suite = ShapesSuite(world: ShapesWorld(seed: 31), count: 60)

    func testAnOracleModelScoresFull() throws {
        let reader = SceneReader(), rasterizer = Rasterizer()
        let report = try suite.run(
            caption: { image in
                // Items run concurrently: each call has its own generator.
                guard let scene = reader.read(image).scene else { return "" }
                var rng = RNG(seed: UInt64(scene.objects.count))
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

    /// Ranks score disjoint shares of the items; the merged report is the whole run's, failures in item order.
    func testSharesMergeIntoTheWholeReport() throws {
        let blank = PlanarImage(size: 64, filledWith: BackgroundColor.white.rgb)
        func run(_ items: [Int]?) throws -> ShapesSuiteReport {
            try suite.run(
                items: items, caption: { _ in "a small red circle in the center on a white background" },
                generate: { _ in blank }, edit: { image, _ in image }, reconstruct: { $0 })
        }
        let whole = try run(nil)
        XCTAssertFalse(whole.editFailures.isEmpty)
        let shares = try (0..<3).map { r in try run(Array(stride(from: r, to: 60, by: 3))) }
        XCTAssertEqual(ShapesSuiteReport.merged(shares), whole)
        XCTAssertNotEqual(ShapesSuiteReport.merged(shares + [shares[0]]), whole)
    }

    func testFlawedModelsScoreLow() throws {
        let blank = PlanarImage(size: 64, filledWith: BackgroundColor.white.rgb)
        let report = try suite.run(
            caption: { _ in "a small red circle in the center on a white background" },
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
        XCTAssertEqual(
            report.editFailures[0],
            EditFailure(
                item: 0, kind: first.kind.rawValue, instruction: first.instruction,
                source: first.source.summary, wanted: first.target.summary,
                got: first.source.summary, oracleMissed: true))
        XCTAssertEqual(report.twoTurnEdit, Tally(correct: 0, total: 60))
        // The oracle edit is scored on the image it is handed back, not on the target it was given; each listed
        // miss says whether the oracle missed it too.
        XCTAssertEqual(report.editOracle, Tally(correct: 0, total: 60))
        XCTAssertEqual(report.reconstruction, AttributeScores(), "skipped capabilities are not scored")
    }

    /// Items run concurrently, yet the report adds them up in item order: a model that edits correctly except on
    /// single-object sources misses exactly those items, listed in ascending order.
    func testConcurrentItemsAddUpInItemOrder() throws {
        let reader = SceneReader(), rasterizer = Rasterizer()
        let report = try suite.run(edit: { image, instruction in
            let source = try XCTUnwrap(reader.read(image).scene)
            return source.objects.count == 1 ? image : rasterizer.render(try EditParser.apply(instruction, to: source))
        })
        let misses = (0..<60).filter { suite.world.edit(at: $0).source.objects.count == 1 }
        XCTAssertFalse(misses.isEmpty)
        XCTAssertEqual(report.editFailures.map(\.item), misses)
        XCTAssertEqual(report.edit, Tally(correct: 60 - misses.count, total: 60))
        let again = try suite.run(edit: { image, instruction in
            let source = try XCTUnwrap(reader.read(image).scene)
            return source.objects.count == 1 ? image : rasterizer.render(try EditParser.apply(instruction, to: source))
        })
        XCTAssertEqual(again, report)
    }

    /// An error from any item stops the run with that error (the first item's in item order).
    func testAnItemsErrorIsRethrown() throws {
        struct Boom: Error, Equatable { let item: String }
        let failing = [suite.world.textToImage(at: 17).text, suite.world.textToImage(at: 41).text]
        XCTAssertThrowsError(
            try suite.run(generate: { prompt in
                if failing.contains(prompt) { throw Boom(item: prompt) }
                return PlanarImage(size: 64, filledWith: BackgroundColor.white.rgb)
            })
        ) { error in
            XCTAssertEqual(error as? Boom, Boom(item: failing[0]))
        }
    }
}
