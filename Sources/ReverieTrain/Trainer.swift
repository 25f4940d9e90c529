import Foundation
import ReverieCore
import ReverieDistributed
import ReverieIO
import ReverieNN
import ReverieRuntime

/// Why a run stopped early.
public enum TrainError: Error, CustomStringConvertible, Equatable {
    /// The loss or gradient norm was NaN or infinite at `step`; the last good checkpoint (if any) is untouched.
    case nonFinite(step: Int, what: String, lastCheckpoint: String?)
    /// The run directory already holds a run and `--resume` was not given.
    case runExists(String)
    /// `--resume` with nothing to resume.
    case nothingToResume(String)
    /// Another live process is training in the run directory.
    case runInUse(String, pid: Int32?)
    /// A file of the run directory cannot be opened or written.
    case io(path: String, detail: String)
    /// A step would need far more memory than the machine has (bytes, measured as `detail` says).
    case stepTooLarge(needed: Double, available: Double, detail: String)

    public var description: String {
        switch self {
        case let .nonFinite(step, what, last):
            return "step \(step): \(what) is not finite; stopped. "
                + (last.map { "The last good checkpoint is \($0) (resume with --resume)." }
                    ?? "No checkpoint was written.")
        case let .runExists(dir):
            return "\(dir) already holds a run (last.h5); pass --resume to continue it, or set another output "
                + "(--set output=… or --set root=…)"
        case let .nothingToResume(dir): return "--resume: \(dir) holds no checkpoint (last.h5) to resume"
        case let .runInUse(dir, pid):
            return "\(dir) is in use by another run (" + (pid.map { "pid \($0)" } ?? "pid unknown")
                + "); wait for it to end, or set another output (--set output=… or --set root=…)"
        case let .io(path, detail): return "\(path): \(detail)"
        case let .stepTooLarge(needed, available, detail):
            return String(
                format: "a training step needs about %.1f GB (%@), far more than this machine's %.1f GB; lower "
                    + "train.batch (raise train.accumulate to keep the global batch)", needed / 1e9, detail,
                available / 1e9)
        }
    }
}

/// How a run ended.
public struct TrainOutcome: Sendable {
    public var step: Int
    public var interrupted: Bool
    /// `final.h5` when the run completed, `last.h5` when interrupted.
    public var checkpoint: URL
    /// The losses of every step taken in this process (for tests and summaries).
    public var losses: [Float]
    public var evaluation: [(String, Double)]
}

/// The training loop of docs/DESIGN.md §5: micro-batches with gradient accumulation, clipping, AdamW with warmup +
/// cosine, metrics, eval with sample sheets, checkpoints every N steps and on Ctrl-C, exact resume, and a stop on a
/// non-finite loss that leaves the last good checkpoint intact.
///
/// Run directory: `run.lock` (held while a run uses it), `recipe.yaml` (the resolved recipe), `metrics.jsonl`,
/// `last.h5` (training state: weights, AdamW moments, RNG, data position), `final.h5` (weights only, when the run
/// completes), `samples/step-N.png`.
public final class Trainer {
    public let recipe: Recipe
    public let stage: any TrainingStage
    public let runDir: URL
    let optimizer: AdamW
    let schedule: LRSchedule
    let params: [Tensor]
    var step = 0
    var position = 0
    var rng: RNG
    /// Stop (as if interrupted) once this step is reached — for tests of resume.
    public var stopAfter: Int?
    public var quiet = false
    /// The ranks of a data-parallel job (one process without mpirun); rank 0 alone writes the run directory.
    public let communicator: any Communicator
    /// How a step's items are shared among micro-batches and ranks.
    public let plan: StepPlan
    /// Every trainable gradient end to end, the unit of the all-reduce (only with more than one rank).
    lazy var gradientBuffer = GradientBuffer(parameters: stage.model.trainableParameters())
    /// Set when any rank asked to stop (Ctrl-C) during the last step: every rank stops at the same step.
    var stopAgreed = false
    /// Compare the ranks' weights every this many steps (0: never); a mismatch stops the run.
    public var replicaCheckEvery = 0
    /// Called after every step and evaluation (a data-parallel job's watchdog counts it as progress).
    public var onProgress: (() -> Void)?
    /// With several ranks and one micro-batch per rank, reduce gradient buckets while backward runs.
    public var overlap = true
    /// Elements per all-reduce bucket when overlapping (4 MB of float32 by default).
    public var bucketElements = 1 << 20
    lazy var overlapped = OverlappedReduction(
        buffer: gradientBuffer, communicator: communicator, bucketElements: bucketElements)
    /// Seconds spent in collectives that the step waited for (all of the reduction without overlap; what backward
    /// did not hide with it), for benchmarks.
    public internal(set) var communicationSeconds = 0.0
    /// The gradient norm of the last step, before clipping.
    public internal(set) var lastGradientNorm: Float = 0

    /// The run's generator before its first step.
    static func initialRNG(_ recipe: Recipe) -> RNG { RNG(seed: recipe.seed &+ 0x5EED) }

    public init(
        recipe: Recipe, stage: (any TrainingStage)? = nil, communicator: any Communicator = SingleProcess()
    ) throws {
        self.recipe = recipe
        self.communicator = communicator
        plan = try StepPlan(
            batch: recipe.loop.batch, accumulate: recipe.loop.accumulate, ranks: communicator.size,
            rank: communicator.rank, file: recipe.file)
        replicaCheckEvery = communicator.size > 1 ? recipe.loop.logEvery : 0
        self.stage = try stage ?? StageBuilder.build(recipe)
        runDir = URL(fileURLWithPath: recipe.output)
        let named = self.stage.model.trainableParameters()
        params = named.map(\.1)
        let o = recipe.optim
        optimizer = try AdamW(parameters: named, lr: o.lr, betas: (o.beta1, o.beta2), weightDecay: o.weightDecay)
        schedule =
            o.schedule == .cosine
            ? .cosine(peak: o.lr, warmupSteps: o.warmup, totalSteps: recipe.loop.steps, minLR: o.minLR)
            : .constant(lr: o.lr, warmupSteps: o.warmup)
        rng = Self.initialRNG(recipe)
    }

    var lastURL: URL { runDir.appendingPathComponent("last.h5") }
    /// Whether this process writes the run directory and reports progress (rank 0).
    public var isRoot: Bool { communicator.rank == 0 }

    /// Trains to `recipe.loop.steps` (or until Ctrl-C / `stopAfter`), from scratch or from `last.h5`.
    public func run(resume: Bool = false) throws -> TrainOutcome {
        let fm = FileManager.default
        // One run per directory: the lock comes before anything is read or written there.
        var lock: RunDirectoryLock?
        if isRoot {
            do {
                try fm.createDirectory(at: runDir, withIntermediateDirectories: true)
            } catch {
                throw TrainError.io(path: runDir.path, detail: "cannot create the run directory: \(posixReason(error))")
            }
            lock = try RunDirectoryLock(runDir)
        }
        defer { withExtendedLifetime(lock) {} }
        if resume {
            guard fm.fileExists(atPath: lastURL.path) else { throw TrainError.nothingToResume(runDir.path) }
            try restore()
        } else if fm.fileExists(atPath: lastURL.path) {
            throw TrainError.runExists(runDir.path)
        }
        let skipped = try recipe.data.training().skipped  // data.skip_bad: what was left out, listed with the run
        guard isRoot else { return try runSteps(metrics: nil) }
        let recipeCopy = runDir.appendingPathComponent("recipe.yaml")
        do {
            try recipe.resolvedYAML.write(to: recipeCopy, atomically: true, encoding: .utf8)
        } catch {
            throw TrainError.io(path: recipeCopy.path, detail: "cannot write: \(posixReason(error))")
        }
        if communicator.size > 1 {
            print(
                "\(communicator.size) ranks, \(plan.mine.count) micro-batch(es) of \(plan.microSize) each per step "
                    + "(as one process with \(plan.singleProcessEquivalent))")
        }
        if !skipped.isEmpty {
            try (skipped.joined(separator: "\n") + "\n").write(
                to: runDir.appendingPathComponent("skipped.txt"), atomically: true, encoding: .utf8)
            if !quiet { print("skipped \(skipped.count) bad records (listed in \(runDir.path)/skipped.txt)") }
        }
        let metrics = try MetricsLog(url: runDir.appendingPathComponent("metrics.jsonl"), resumeAt: resume ? step : nil)
        return try runSteps(metrics: metrics)
    }

    /// The loop of `run`; `metrics` is nil on ranks other than 0, which write nothing.
    func runSteps(metrics: MetricsLog?) throws -> TrainOutcome {
        let fm = FileManager.default
        let loop = recipe.loop
        let quiet = self.quiet || !isRoot
        stage.model.train()
        if step < loop.steps { try StepMemoryCheck.check(self, quiet: quiet) }
        let progress = ProgressLine(
            label: recipe.stage.rawValue, total: loop.steps, every: loop.logEvery,
            startStep: step)
        Interrupt.install()
        defer { Interrupt.uninstall() }
        let started = Date()
        var (loggedStep, loggedAt) = (step, started)
        var losses: [Float] = []
        var lastSaved: URL? = fm.fileExists(atPath: lastURL.path) ? lastURL : nil
        var evaluation: [(String, Double)] = []
        while step < loop.steps {
            let interrupted = communicator.size > 1 ? stopAgreed : Interrupt.requested != 0
            if interrupted || stopAfter.map({ step >= $0 }) == true {
                try save(to: lastURL)
                try communicator.barrier()
                if !quiet { progress.end() }
                return TrainOutcome(
                    step: step, interrupted: true, checkpoint: lastURL, losses: losses,
                    evaluation: [])
            }
            let (loss, terms) = try trainStep(lastSaved: lastSaved)
            onProgress?()
            losses.append(loss)
            if !quiet { progress.update(step: step, terms: [("loss", loss)] + terms) }
            if step % loop.logEvery == 0 || step == loop.steps {
                let now = Date()
                try metrics?.step(
                    step, loss: loss, terms: terms, lr: optimizer.lr, gradientNorm: lastGradientNorm,
                    stepsPerSecond: Double(step - loggedStep) / max(now.timeIntervalSince(loggedAt), 1e-9),
                    elapsed: now.timeIntervalSince(started))
                (loggedStep, loggedAt) = (step, now)
            }
            if replicaCheckEvery > 0, step % replicaCheckEvery == 0 { try checkReplicas() }
            // Every rank scores its share of the items; rank 0 writes the sheet and the scores.
            if recipe.eval.every > 0, step % recipe.eval.every == 0 || step == loop.steps {
                evaluation = try evaluate(sheet: isRoot ? "step-\(step).png" : nil)
                onProgress?()
                let sheet = runDir.appendingPathComponent("samples/step-\(step).png")
                try metrics?.evaluation(
                    step, scores: evaluation, sheet: fm.fileExists(atPath: sheet.path) ? sheet : nil)
            }
            if loop.checkpointEvery > 0, step % loop.checkpointEvery == 0, step < loop.steps {
                try save(to: lastURL)
                lastSaved = lastURL
            }
        }
        if !quiet { progress.end() }
        try stage.finish()
        try save(to: lastURL)
        let final = runDir.appendingPathComponent("final.h5")
        try save(to: final, trainingState: false)
        try communicator.barrier()  // the next stage (on every rank) reads what rank 0 wrote
        return TrainOutcome(step: step, interrupted: false, checkpoint: final, losses: losses, evaluation: evaluation)
    }

    /// One optimizer step over `accumulate` micro-batches (no checkpoint, no metrics: `run` adds those). Returns
    /// the mean loss and its mean terms; a non-finite one throws, naming `lastSaved` as the last good checkpoint.
    ///
    /// With one micro-batch the stage draws from the run's generator and back-propagates into the parameters. With
    /// several, each micro-batch gets its own generator forked from the run's (so results do not depend on the
    /// thread count) and they run concurrently, one per core with single-threaded BLAS (data parallelism: small
    /// GEMMs keep one core busy far better than two); their gradients are then summed in micro-batch order.
    public func trainStep(lastSaved: URL? = nil) throws -> (Float, [(String, Float)]) {
        optimizer.zeroGrad()
        let m = plan.microBatches, items = plan.items
        // The next step's images load in the background while this one computes.
        let next = (position + items)..<(position + 2 * items)
        // A rank loads only its own share.
        stage.prefetch(
            indices: communicator.size > 1 ? Array(stage.partition(next, parts: m)[plan.mine].joined()) : Array(next))
        var micro: [MicroBatch]
        if m == 1 {
            let l = try stage.loss(indices: Array(position..<(position + items)), rng: &rng)
            let value = try l.total.item()
            try checkFinite(value, lastSaved: lastSaved)
            try l.total.backward()
            micro = [MicroBatch(value: value, terms: l.terms, gradients: [:])]
        } else if communicator.size > 1, overlap, plan.mine.count == 1 {
            let rngs = (0..<m).map { _ in RNG(seed: rng.next()) }
            let k = plan.mine.lowerBound
            var g = rngs[k]
            micro = [try overlappedMicroBatch(stage.partition(position..<(position + items), parts: m)[k], rng: &g)]
        } else {
            let rngs = (0..<m).map { _ in RNG(seed: rng.next()) }
            let shares = stage.partition(position..<(position + items), parts: m)
            var mine = Array(rngs[plan.mine])
            micro = try microBatches(Array(shares[plan.mine]), rngs: &mine, of: m)
            if communicator.size == 1 { for x in micro { try checkFinite(x.value, lastSaved: lastSaved) } }
            for p in params {
                for x in micro { if let g = x.gradients[ObjectIdentifier(p)] { p.accumulateGradient(g) } }
            }
        }
        position += items
        var total = micro.reduce(Float(0)) { $0 + $1.value }
        var sums = micro[0].terms
        for x in micro.dropFirst() { for i in sums.indices where i < x.terms.count { sums[i].1 += x.terms[i].1 } }
        if communicator.size > 1 {
            let started = DispatchTime.now().uptimeNanoseconds
            (total, sums) = try reduceAcrossRanks(total, sums)
            try checkFinite(total, lastSaved: lastSaved)
            if micro[0].overlapped { gradientBuffer.scatter() } else { try reduceGradients() }
            communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        }
        let norm = recipe.optim.clip > 0 ? clipGradNorm(params, maxNorm: Float(recipe.optim.clip)) : gradNorm(params)
        lastGradientNorm = norm
        guard norm.isFinite else {
            throw TrainError.nonFinite(
                step: step + 1, what: "the gradient norm (\(norm))",
                lastCheckpoint: lastSaved?.path)
        }
        optimizer.lr = schedule.lr(step: step)
        optimizer.step()
        step += 1
        let count = Float(m)
        return (total / count, sums.map { ($0.0, $0.1 / count) })
    }

    func checkFinite(_ value: Float, lastSaved: URL?) throws {
        guard value.isFinite else {
            throw TrainError.nonFinite(step: step + 1, what: "the loss (\(value))", lastCheckpoint: lastSaved?.path)
        }
    }

    /// Runs the stage's evaluation in eval mode, its items shared among the job's ranks, and writes the sample sheet
    /// under `samples/`.
    public func evaluate(sheet name: String?) throws -> [(String, Double)] {
        stage.model.eval()
        defer { stage.model.train() }
        let sheet = name.map { runDir.appendingPathComponent("samples").appendingPathComponent($0) }
        return try stage.evaluate(
            count: recipe.eval.count, seed: recipe.eval.seed, sheet: sheet,
            share: ItemShare(communicator: communicator))
    }

    /// Writes a checkpoint atomically. Training state (optimizer, RNG, data position) only in `last.h5`.
    func save(to url: URL, trainingState: Bool = true) throws {
        guard isRoot else { return }
        var c = Checkpoint(model: (trainingState ? stage.model : stage.exportedModel).stateDict())
        if trainingState {
            c.optimizer = optimizer.exportState()
            c.integers = [
                "state.rng": rng.stateWords.map { Int64(bitPattern: $0) },
                "state.data.position": [Int64(position)],
            ]
        }
        c.step = Int64(step)
        c.recipe = recipe.resolvedYAML
        c.modelConfig = try ModelConfigRecord(stage: recipe.stage.rawValue, parts: stage.parts).json()
        if let json = stage.parts.llm?.tokenizerJSON { c.attributes["tokenizer"] = .string(json) }
        try c.write(to: url)
    }

    /// Loads weights, optimizer, RNG, step and data position from `last.h5`.
    func restore() throws {
        let c = try Checkpoint.read(from: lastURL)
        try loadStateDict(c.model, into: stage.model.stateDict(), strict: true, file: lastURL.path)
        try optimizer.importState(c.optimizer)
        guard let words = c.integers["state.rng"], let pos = c.integers["state.data.position"]?.first,
            let s = c.step
        else {
            throw RecipeError(
                file: lastURL.path, line: nil, key: "state",
                message: "not a training checkpoint (no RNG state, data position or step)")
        }
        rng = try RNG(stateWords: words.map { UInt64(bitPattern: $0) })
        position = Int(pos)
        step = Int(s)
    }
}

/// The operating system's reason inside a Foundation file error ("Read-only file system", "No space left on
/// device"), not Foundation's dump of domains and codes.
func posixReason(_ error: any Error) -> String {
    let ns = error as NSError
    if let inner = ns.userInfo[NSUnderlyingErrorKey] as? any Error {
        let underlying = inner as NSError
        if underlying.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(underlying.code))) }
    }
    return ns.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(ns.code))) : ns.localizedDescription
}
