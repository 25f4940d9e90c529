import Foundation
import ReverieCore

/// Before the first step, a measured estimate of what a step will hold, refused when it cannot fit: a recipe may
/// ask for a batch that no machine holds (65 536 images at a 4096 canvas), and the allocator would end the process
/// mid-step instead of naming the setting.
///
/// One item runs forward and backward (from a copy of the run's generator, so the run is unchanged); the bytes it
/// holds from malloc with its graph and gradients alive, times the items a rank holds at once, plus the optimizer
/// state still to come, is the estimate. The estimate errs high (fixed costs count once per item), so only a step
/// that needs more than twice this machine's memory is refused; one that needs more than all of it is warned about.
enum StepMemoryCheck {
    /// The estimate in bytes, and how it was made (for the message).
    static func estimate(_ trainer: Trainer) throws -> (bytes: Double, detail: String)? {
        try estimate(
            stage: trainer.stage, position: trainer.position, rng: trainer.rng, plan: trainer.plan,
            trainable: trainer.params.reduce(0) { $0 + $1.count })
    }

    /// The estimate for `stage` run by `plan`, measured on the item at data `position` with a copy of `rng`; nil when
    /// tensor memory is not counted.
    static func estimate(stage: any TrainingStage, position: Int, rng: RNG, plan: StepPlan, trainable: Int) throws
        -> (bytes: Double, detail: String)?
    {
        let before = TensorStorage.heapBytesInUse
        guard before > 0 else { return nil }
        var probe = rng
        let loss = try stage.loss(indices: [position], rng: &probe)
        let forward = TensorStorage.heapBytesInUse
        var backward = forward
        if loss.total.requiresGrad, try loss.total.item().isFinite {
            let gradients = try loss.total.leafGradients()
            backward = TensorStorage.heapBytesInUse
            withExtendedLifetime(gradients) {}
        }
        withExtendedLifetime(loss) {}
        let perItem = Double(max(0, max(forward, backward) - before))
        // Micro-batches of a rank run side by side, one per worker thread.
        let together = min(plan.mine.count, ThreadPolicy.threads)
        let items = Double(plan.microSize * together)
        let optimizer = Double(trainable) * 4 * 3  // gradients and AdamW's two moments, allocated in the first step
        let bytes = perItem * items + optimizer
        let detail = String(
            format: "%.1f MB measured for one item × %.0f items at once (train.batch per micro-batch, micro-batches "
                + "side by side) + %.2f GB of gradients and optimizer state",
            perItem / 1e6, items, optimizer / 1e9)
        return (bytes, detail)
    }

    /// Throws `TrainError.stepTooLarge` when a step needs more than twice the machine's memory; prints a warning
    /// when it needs more than all of it.
    static func check(_ trainer: Trainer, quiet: Bool) throws {
        guard let (bytes, detail) = try estimate(trainer) else { return }
        try refuse(bytes, detail)
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        if bytes > memory, !quiet {
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "warning: a step may need about %.1f GB (%@); this machine has %.1f GB\n",
                        bytes / 1e9, detail, memory / 1e9
                    ).utf8))
        }
    }

    /// Throws `TrainError.stepTooLarge` when `bytes` is more than twice this machine's memory.
    static func refuse(_ bytes: Double, _ detail: String) throws {
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        if bytes > 2 * memory {
            throw TrainError.stepTooLarge(needed: bytes, available: memory, detail: detail)
        }
    }
}
