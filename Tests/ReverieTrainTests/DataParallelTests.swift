import Foundation
import ReverieCore
import ReverieData
import ReverieRuntime
import ReverieTestSupport
import XCTest

@testable import ReverieTrain

/// Accumulated micro-batches run concurrently (one per core) and must give what running them one after another
/// gives: the same losses, the same gradients, the same generator states.
final class DataParallelTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try TinyRecipes.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The multimodal stage with fresh (untrained) parts, so no earlier stage has to run: its frozen encoder runs
    /// under `withNoGrad` on one thread while another thread records its graph.
    func multimodalRecipe(overrides: [String] = []) throws -> Recipe {
        let root = dir.appendingPathComponent("runs").path
        try TinyRecipes.writeTokenizer(root: root)
        let text = TinyRecipes.text("mllm", root: root, extra: "")
            .replacingOccurrences(of: "vision: {init: siglip}", with: TinyRecipes.vision)
            .replacingOccurrences(of: "vae: {init: decoder}", with: TinyRecipes.vae)
            .replacingOccurrences(of: "unet: {init: decoder}", with: TinyRecipes.unet)
        let url = dir.appendingPathComponent("mllm.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return try Recipe.load(url, overrides: overrides)
    }

    func testConcurrentMicroBatchesEqualSequentialOnes() throws {
        var recipe = try multimodalRecipe()
        recipe.loop.accumulate = 3
        let trainer = try Trainer(recipe: recipe)
        var parallelRNGs = (0..<3).map { RNG(seed: 100 + UInt64($0)) }
        var sequentialRNGs = parallelRNGs
        let micro = try trainer.microBatches(trainer.stage.partition(5..<11, parts: 3), rngs: &parallelRNGs, of: 3)
        XCTAssertEqual(micro.count, 3)

        let params = trainer.stage.model.trainableParameters().map(\.1)
        XCTAssertFalse(params.isEmpty)
        XCTAssertTrue(params.allSatisfy { $0.grad == nil })  // micro-batches never touch `grad`
        let shares = trainer.stage.partition(5..<11, parts: 3)
        XCTAssertEqual(shares.flatMap { $0 }.sorted(), Array(5..<11))
        for k in 0..<3 {
            for p in params { p.zeroGrad() }
            let l = try trainer.stage.loss(indices: shares[k], rng: &sequentialRNGs[k])
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

    /// Items go by decreasing cost to the cheapest micro-batch not yet full: equal sizes, close sums.
    func testBalancedPartitionEvensOutCosts() {
        let shares = MicroBatchPartition.balanced([20, 21, 22, 23, 24, 25], costs: [10, 1, 1, 10, 5, 5], parts: 2)
        XCTAssertEqual(shares, [[20, 21, 24], [22, 23, 25]])  // costs 16 and 16 (consecutive halves: 12 and 20)
        XCTAssertEqual(MicroBatchPartition.balanced([0, 1, 2, 3], costs: [1, 1, 1, 1], parts: 2), [[0, 2], [1, 3]])
    }

    /// The multimodal stage shares a step's items by their expanded length; every item exactly once.
    func testMultimodalStageBalancesMicroBatchesByLength() throws {
        let trainer = try Trainer(recipe: multimodalRecipe())
        let stage = try XCTUnwrap(trainer.stage as? MLLMStage)
        let shares = stage.partition(0..<16, parts: 2)
        XCTAssertEqual(shares.map(\.count), [8, 8])
        XCTAssertEqual(shares.flatMap { $0 }.sorted(), Array(0..<16))
        func cost(_ items: [Int]) -> Int {
            items.reduce(0) { $0 + stage.mm.expandedLength(tokens: stage.builder.tokens(try! stage.record($1))) }
        }
        let lengths = (0..<16).map { cost([$0]) }
        XCTAssertGreaterThan(Set(lengths).count, 1)  // the mixture's kinds differ in length
        let balanced = abs(cost(shares[0]) - cost(shares[1]))
        XCTAssertLessThanOrEqual(balanced, abs(cost(Array(0..<8)) - cost(Array(8..<16))))
        XCTAssertLessThanOrEqual(balanced, lengths.max()!)
    }

    /// With `output.describe_edits` every edit record carries its target's canonical caption as the result the
    /// model writes; other kinds are unchanged.
    func testDescribedEditsCarryTheirTargetsCaption() throws {
        let trainer = try Trainer(recipe: multimodalRecipe(overrides: ["model.output.describe_edits=true"]))
        let stage = try XCTUnwrap(trainer.stage as? MLLMStage)
        XCTAssertTrue(stage.mm.config.describeEdits)
        let plain = try XCTUnwrap(try Trainer(recipe: multimodalRecipe()).stage as? MLLMStage)
        XCTAssertFalse(plain.mm.config.describeEdits)
        var edits = 0
        for i in 0..<32 {
            guard case let .edit(_, _, .scene(target), result) = try stage.record(i) else { continue }
            XCTAssertEqual(result, CaptionWriter.canonicalCaption(target))
            edits += 1
        }
        XCTAssertGreaterThan(edits, 0)
    }

    /// `loss.smooth_l1_beta` reaches the stage's loss: the same batch scores differently at another β.
    func testSmoothL1BetaReachesTheStagesLoss() throws {
        func stage(_ beta: String) throws -> MLLMStage {
            let overrides = ["loss.regression_kind=smooth_l1", "loss.smooth_l1_beta=\(beta)"]
            return try XCTUnwrap(try Trainer(recipe: multimodalRecipe(overrides: overrides)).stage as? MLLMStage)
        }
        let (narrow, wide) = (try stage("0.05"), try stage("1"))
        XCTAssertEqual(narrow.lossConfig.regression, .smoothL1)
        XCTAssertEqual(narrow.lossConfig.smoothL1Beta, 0.05)
        XCTAssertEqual(wide.lossConfig.smoothL1Beta, 1)
        func term(_ name: String, _ stage: MLLMStage) throws -> Float {
            var rng = RNG(seed: 7)
            return try XCTUnwrap(try stage.loss(indices: Array(0..<6), rng: &rng).terms.first { $0.0 == name }?.1)
        }
        // Below β the loss is d²/2β and above it |d| − β/2: a narrower β scores every error higher.
        XCTAssertGreaterThan(try term("regression", narrow), try term("regression", wide))
        XCTAssertEqual(try term("ce", narrow), try term("ce", wide))
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
