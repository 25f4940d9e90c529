import Foundation
import ReverieCore
import ReverieDistributed
import ReverieRuntime
import ReverieTestSupport
import XCTest

@testable import ReverieTrain

/// Under mpirun every rank scores its share of a stage evaluation's items and the ranks exchange what they found:
/// the scores must be the ones one process finds. Two ranks here are two threads of this process (`ThreadRanks`),
/// each with its own copy of the trained model.
final class SharedEvaluationTests: XCTestCase {
    func testEveryStageScoresUnderTwoRanksWhatOneProcessScores() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try assertSharedScores(dir: dir, overrides: [])
    }

    /// The same on an eval manifest over photos (`data.eval_manifest`): retrieval, reconstruction PSNR/SSIM and the
    /// manifest suite's captions, drawings and edits.
    func testEvalManifestScoresUnderTwoRanksWhatOneProcessScores() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let photos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/photos")
        let names = ["china.jpg", "camera.png", "rocket.jpg", "flower_rgba.png", "chelsea_cmyk.jpg"]
        let lines = names.enumerated().flatMap { i, n -> [String] in
            let (path, next) = (
                photos.appendingPathComponent(n).path, photos.appendingPathComponent(names[(i + 1) % 5]).path
            )
            return [
                #"{"kind": "caption", "image": "\#(path)", "text": "a photo number \#(i)"}"#,
                #"{"kind": "text_to_image", "text": "draw photo \#(i)", "image": "\#(path)"}"#,
                #"{"kind": "edit", "source": "\#(path)", "instruction": "next one", "target": "\#(next)"}"#,
            ]
        }
        let manifest = dir.appendingPathComponent("eval.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: manifest, atomically: true, encoding: .utf8)
        try assertSharedScores(dir: dir, overrides: ["data.eval_manifest=\(manifest.path)"])
    }

    func assertSharedScores(dir: URL, overrides: [String]) throws {
        // Five items: the ranks' shares differ in size, and the vae's and decoder's batches do too.
        let (_, stages) = try PipelineRecipe.load(
            TinyRecipes.writePipeline(in: dir, steps: 2), overrides: ["eval.count=5"] + overrides)
        for recipe in stages {
            let trainer = try Trainer(recipe: recipe)
            trainer.quiet = true
            _ = try trainer.run()
            let weights = Trained(state: trainer.stage.model.stateDict())
            @Sendable func copy(_ communicator: any Communicator) throws -> Trainer {
                let t = try Trainer(recipe: recipe, communicator: communicator)
                _ = try t.stage.model.loadStateDict(weights.state)
                return t
            }
            let one = try copy(SingleProcess()).evaluate(sheet: nil)
            let two = try ThreadRanks(size: 2).run { try copy($0).evaluate(sheet: nil) }
            XCTAssertFalse(one.isEmpty, recipe.name)
            let names = one.map(\.0)
            XCTAssertEqual(two[0].map(\.0), names, recipe.name)
            for (a, b) in zip(two[0], one) { XCTAssertEqual(a.1, b.1, "\(recipe.name) \(a.0)") }
            // Rank 1 gets the item scores too (what rank 0 alone measures, the siglip loudness probe, aside).
            for (a, b) in zip(two[1], one) where a.0 == b.0 { XCTAssertEqual(a.1, b.1, "\(recipe.name) \(a.0)") }
        }
    }

    /// Each rank copies the weights, read only.
    struct Trained: @unchecked Sendable {
        let state: [String: Tensor]
    }

    func testShareSplitsItemsAndPartsAndReassemblesResultsInOrder() throws {
        let shares = try ThreadRanks(size: 3).run { c -> ([Int], Range<Int>, [Int]) in
            let share = ItemShare(communicator: c)
            return (share.mine(7), share.part(7), try share.results(7) { $0 * 10 + c.rank })
        }
        XCTAssertEqual(shares.map(\.0), [[0, 3, 6], [1, 4], [2, 5]])
        XCTAssertEqual(shares.map(\.1), [0..<3, 3..<5, 5..<7])
        for s in shares { XCTAssertEqual(s.2, [0, 11, 22, 30, 41, 52, 60]) }
    }

    func testAFailingRankMakesEveryRankThrow() throws {
        let outcomes = try ThreadRanks(size: 2).run { c -> String in
            do {
                _ = try ItemShare(communicator: c).results(4) { i -> Int in
                    if i == 3 { throw CocoaError(.fileReadCorruptFile) }
                    return i
                }
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(outcomes[0].contains("rank 1"), outcomes[0])
        XCTAssertNotEqual(outcomes[1], "no error")
    }
}
