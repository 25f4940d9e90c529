import Foundation
import ReverieCore
import ReverieNN
import ReverieRuntime

/// One micro-batch's loss: the differentiable total and its named terms as numbers (for metrics).
public struct StageLoss {
    public var total: Tensor
    public var terms: [(String, Float)]

    public init(total: Tensor, terms: [(String, Float)]) { (self.total, self.terms) = (total, terms) }
}

/// What the trainer needs from a stage: the whole model (checkpointed), a loss on the data items at given
/// indices, and an evaluation that returns named scores and may write a sample sheet.
///
/// Data items are a pure function of their index (ShapesWorld), so the data position of a run is one integer.
public protocol TrainingStage: AnyObject {
    var kind: StageKind { get }
    var model: Module { get }
    /// What the final checkpoint stores: `model` without what only training needs (e.g. the mllm stage's shape
    /// probe), so inference commands load it strictly. `last.h5` stores all of `model` for an exact resume.
    var exportedModel: Module { get }
    /// Every part's resolved configuration (stored as the checkpoint's `model_config`).
    var parts: ModelParts { get }
    func loss(indices: [Int], rng: inout RNG) throws -> StageLoss
    /// The data indices of each of `parts` micro-batches of one step over `indices`, `indices.count / parts` each.
    /// By default consecutive runs; a stage whose items differ in cost may even out the micro-batches that run side
    /// by side (the step waits for the slowest).
    func partition(_ indices: Range<Int>, parts: Int) -> [[Int]]
    /// Scores on `count` items of a world seeded `seed` (or of the eval manifest); writes `sheet` (a PNG) when the
    /// stage draws images. Under mpirun every rank calls it with the job's `share`, scores its share of the items,
    /// and returns the scores of all of them (rank 0 alone is given a sheet).
    func evaluate(count: Int, seed: UInt64, sheet: URL?, share: ItemShare) throws -> [(String, Double)]
    /// Called once before the final checkpoint (a stage may record measured configuration, e.g. a latent scale).
    func finish() throws
    /// Starts loading, in the background, what the items at `indices` will need (the trainer names the next step's
    /// items while the current step computes).
    func prefetch(indices: [Int])
}

extension TrainingStage {
    public var exportedModel: Module { model }
}

extension TrainingStage {
    public func finish() throws {}
    public func prefetch(indices: [Int]) {}

    public func partition(_ indices: Range<Int>, parts: Int) -> [[Int]] {
        MicroBatchPartition.consecutive(indices, parts: parts)
    }
}
