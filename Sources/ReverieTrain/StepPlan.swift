/// How one optimizer step's `batch × accumulate` items are shared among micro-batches and among the ranks of a
/// data-parallel job.
///
/// A step is `microBatches` micro-batches of `microSize` items, each drawing its randomness from its own generator
/// forked from the run's in micro-batch order, and each rank runs the micro-batches of `mine`. The plan depends on
/// the rank count only through the micro-batch split, so a job of N ranks computes exactly what one process
/// computes with `train.batch = microSize` and `train.accumulate = microBatches` (to the order of the gradient sum).
public struct StepPlan: Equatable, Sendable {
    /// Micro-batches of one step, over the whole job.
    public let microBatches: Int
    /// Items of each micro-batch.
    public let microSize: Int
    /// The micro-batches this rank runs.
    public let mine: Range<Int>

    /// Shares a step among `ranks`: the recipe's micro-batches when `accumulate` is a multiple of the rank count,
    /// else each micro-batch cut into `ranks` equal pieces; refused when neither divides.
    public init(batch: Int, accumulate: Int, ranks: Int, rank: Int, file: String = "recipe") throws {
        if accumulate % ranks == 0 {
            (microBatches, microSize) = (accumulate, batch)
        } else if batch % ranks == 0 {
            (microBatches, microSize) = (accumulate * ranks, batch / ranks)
        } else {
            throw RecipeError(
                file: file, line: nil, key: "train.batch",
                message: "a step of batch \(batch) × accumulate \(accumulate) cannot be shared evenly among \(ranks) "
                    + "ranks: make train.batch or train.accumulate a multiple of \(ranks)")
        }
        let per = microBatches / ranks
        mine = (rank * per)..<((rank + 1) * per)
    }

    /// Items of one step.
    public var items: Int { microBatches * microSize }

    /// The recipe settings under which one process runs the same micro-batches (`train.batch=… train.accumulate=…`).
    public var singleProcessEquivalent: String { "train.batch=\(microSize) train.accumulate=\(microBatches)" }
}
