import Foundation
import ReverieCore
@testable import ReverieTrain
import ReverieTestSupport
import XCTest

/// Accumulated micro-batches run concurrently (one per core) and must give what running them one after another
/// gives: the same losses, the same gradients, the same generator states.
final class DataParallelTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try TinyRecipes.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The multimodal stage with fresh (untrained) parts, so no earlier stage has to run: its frozen encoder runs
    /// under `withNoGrad` on one thread while another thread records its graph.
    func multimodalRecipe() throws -> Recipe {
        let root = dir.appendingPathComponent("runs").path
        try TinyRecipes.writeTokenizer(root: root)
        let text = TinyRecipes.text("mllm", root: root, extra: "")
            .replacingOccurrences(of: "vision: {init: siglip}", with: TinyRecipes.vision)
            .replacingOccurrences(of: "vae: {init: decoder}", with: TinyRecipes.vae)
            .replacingOccurrences(of: "unet: {init: decoder}", with: TinyRecipes.unet)
        let url = dir.appendingPathComponent("mllm.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return try Recipe.load(url)
    }

    func testConcurrentMicroBatchesEqualSequentialOnes() throws {
        var recipe = try multimodalRecipe()
        recipe.loop.accumulate = 3
        let trainer = try Trainer(recipe: recipe)
        var parallelRNGs = (0..<3).map { RNG(seed: 100 + UInt64($0)) }
        var sequentialRNGs = parallelRNGs
        let micro = try trainer.microBatches(from: 5, rngs: &parallelRNGs)
        XCTAssertEqual(micro.count, 3)

        let params = trainer.stage.model.trainableParameters().map(\.1)
        XCTAssertFalse(params.isEmpty)
        XCTAssertTrue(params.allSatisfy { $0.grad == nil })  // micro-batches never touch `grad`
        for k in 0..<3 {
            params.forEach { $0.zeroGrad() }
            let lo = 5 + 2 * k
            let l = try trainer.stage.loss(indices: lo..<(lo + 2), rng: &sequentialRNGs[k])
            try (l.total * (1 / 3)).backward()
            XCTAssertEqual(micro[k].value, try l.total.item(), accuracy: 1e-5 * max(1, abs(micro[k].value)))
            XCTAssertEqual(micro[k].terms.map(\.0), l.terms.map(\.0))
            var compared = 0
            for p in params {
                guard let expected = p.grad else { continue }
                let got = try XCTUnwrap(micro[k].gradients[ObjectIdentifier(p)])
                XCTAssertEqual(got.shape, expected.shape)
                let e = expected.toArray(), g = got.toArray()
                let scale = max(e.map(abs).max() ?? 0, 1e-6)
                let worst = zip(e, g).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-4 * scale, "micro-batch \(k)")
                compared += 1
            }
            XCTAssertGreaterThan(compared, params.count / 2)
        }
        XCTAssertEqual(parallelRNGs, sequentialRNGs)
    }

    /// Two steps with three accumulated micro-batches, twice: the same losses bit for bit, and the data position
    /// advances by steps × micro-batches × batch.
    func testAccumulatedStepsAreDeterministic() throws {
        var recipe = try multimodalRecipe()
        recipe.loop.accumulate = 3
        recipe.loop.steps = 2
        var losses: [[Float]] = []
        for run in 0..<2 {
            var r = recipe
            r.output += "-\(run)"
            let t = try Trainer(recipe: r)
            t.quiet = true
            losses.append(try t.run().losses)
            XCTAssertEqual(t.position, 12)
        }
        XCTAssertEqual(losses[0], losses[1])
        XCTAssertTrue(losses[0].allSatisfy(\.isFinite))
    }
}
