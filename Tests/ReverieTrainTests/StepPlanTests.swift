import ReverieCore
import ReverieDistributed
import ReverieTestSupport
import XCTest

@testable import ReverieTrain

/// How a step is shared among ranks, and what a data-parallel trainer does with the other ranks' sums.
final class StepPlanTests: XCTestCase {
    func testOneRankKeepsTheRecipesMicroBatches() throws {
        let plan = try StepPlan(batch: 8, accumulate: 3, ranks: 1, rank: 0)
        XCTAssertEqual([plan.microBatches, plan.microSize, plan.items], [3, 8, 24])
        XCTAssertEqual(plan.mine, 0..<3)
    }

    func testRanksShareMicroBatchesOrCutThem() throws {
        // accumulate a multiple of the rank count: each rank runs whole micro-batches of the recipe
        let whole = try (0..<2).map { try StepPlan(batch: 4, accumulate: 4, ranks: 2, rank: $0) }
        XCTAssertEqual(whole.map(\.mine), [0..<2, 2..<4])
        XCTAssertEqual(whole[0].microSize, 4)
        // else each micro-batch is cut into one piece per rank: the same as one process with batch/N, accumulate·N
        let cut = try (0..<4).map { try StepPlan(batch: 8, accumulate: 1, ranks: 4, rank: $0) }
        XCTAssertEqual(cut.map(\.mine), [0..<1, 1..<2, 2..<3, 3..<4])
        XCTAssertEqual(cut[0].singleProcessEquivalent, "train.batch=2 train.accumulate=4")
        XCTAssertEqual(try StepPlan(batch: 2, accumulate: 4, ranks: 1, rank: 0).items, cut[0].items)
    }

    func testAStepThatCannotBeSharedIsRefusedByKey() {
        XCTAssertThrowsError(try StepPlan(batch: 3, accumulate: 1, ranks: 2, rank: 0, file: "r.yaml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("r.yaml: train.batch: a step of batch 3 × accumulate 1"), "\(error)")
        }
    }

    /// Over an epoch of steps, the ranks' shares cover every item exactly once.
    func testShardsCoverEveryItemOncePerEpoch() throws {
        let ranks = 3, batch = 6, accumulate = 2, epoch = 120
        var seen = [Int](repeating: 0, count: epoch)
        for rank in 0..<ranks {
            let plan = try StepPlan(batch: batch, accumulate: accumulate, ranks: ranks, rank: rank)
            for start in stride(from: 0, to: epoch, by: plan.items) {
                let shares = MicroBatchPartition.consecutive(start..<(start + plan.items), parts: plan.microBatches)
                for i in shares[plan.mine].joined() { seen[i] += 1 }
            }
        }
        XCTAssertEqual(seen, [Int](repeating: 1, count: epoch))
    }

    /// A NaN on another rank reaches this one through the summed loss: the step throws before any weight changes.
    func testANonFiniteLossOnAnotherRankStopsThisOne() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("vae.yaml")
        try TinyRecipes.text("vae", root: dir.path, steps: 5).write(to: url, atomically: true, encoding: .utf8)
        let recipe = try Recipe.load(url)
        let peer = PeerStub(addedLoss: .nan)
        let trainer = try Trainer(recipe: recipe, communicator: peer)
        let before = trainer.stage.model.stateDict().mapValues { $0.toArray() }
        XCTAssertThrowsError(try trainer.trainStep()) { error in
            guard case TrainError.nonFinite(step: 1, _, _)? = error as? TrainError else {
                return XCTFail("\(error)")
            }
        }
        XCTAssertEqual(trainer.stage.model.stateDict().mapValues { $0.toArray() }, before)
    }
}

/// A job of two ranks seen from rank 0, whose peer adds `addedLoss` to the first value of every double all-reduce
/// (the loss sum) and nothing to gradients.
final class PeerStub: Communicator, @unchecked Sendable {
    let addedLoss: Double
    init(addedLoss: Double) { self.addedLoss = addedLoss }
    var rank: Int { 0 }
    var size: Int { 2 }
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws { values[0] += addedLoss }
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
    func barrier() throws {}
    func abort(code: Int32) -> Never { fatalError("abort \(code)") }
}
