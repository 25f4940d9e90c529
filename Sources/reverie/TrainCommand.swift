import ArgumentParser
import Foundation
import ReverieDistributed
import ReverieRuntime
import ReverieTrain

/// `reverie train RECIPE [--set key=value]... [--resume]`: a stage recipe, or a pipeline of them.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train from a YAML recipe (a stage, or a pipeline of stages).",
        discussion: """
            A stage writes its run directory (recipe.yaml, metrics.jsonl, last.h5, final.h5, samples/). Ctrl-C \
            checkpoints and stops; --resume continues exactly where a run stopped. A pipeline runs its stages in \
            order (with --resume, finished stages are skipped) and evaluates the final model.

            Under mpirun (mpirun -np N reverie train …) it trains data-parallel: every rank runs its share of each \
            step and gradients are summed with MPI_Allreduce; rank 0 alone prints and writes the run directory.
            """)

    @Argument(help: "The recipe file (e.g. recipes/shapes/quickstart.yaml).")
    var recipe: String

    @Option(name: .customLong("set"), help: "Override a recipe key: --set optim.lr=1e-4 (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Continue the run in the recipe's output directory from its last checkpoint.")
    var resume = false

    @Flag(help: "No progress bar.")
    var quiet = false

    @Option(help: "Under mpirun: end the job when a rank makes no progress for this many seconds (a hung peer).")
    var rankTimeout: Double = 1800

    @Flag(
        inversion: .prefixedNo,
        help: "Under mpirun: reduce gradient buckets while backward runs (one micro-batch per rank per step).")
    var overlap = true

    @Option(help: "Under mpirun: megabytes of gradients per all-reduce bucket when overlapping.")
    var bucketMegabytes: Double = 4

    func run() throws {
        let comm = try DistributedLaunch.communicator()
        guard comm.size > 1 else { return try train(comm) }
        guard rankTimeout > 0 else { throw ValidationError("--rank-timeout must be positive") }
        guard bucketMegabytes > 0, bucketMegabytes <= 4096 else {
            throw ValidationError("--bucket-megabytes must be in (0, 4096]")
        }
        let rank = comm.rank, timeout = rankTimeout
        let watchdog = Watchdog(timeout: timeout) { idle in
            FileHandle.standardError.write(
                Data(
                    ("reverie train: rank \(rank) made no progress for \(Int(idle)) s (limit --rank-timeout "
                        + "\(Int(timeout))): another rank died or hangs; ending the job\n").utf8))
            comm.abort(code: 3)
        }
        do {
            try train(comm, watchdog: watchdog)
        } catch {
            // One rank that stops must stop them all, or the others wait in the next all-reduce.
            FileHandle.standardError.write(Data("reverie train: rank \(rank): \(error)\n".utf8))
            comm.abort(code: 1)
        }
        watchdog.stop()
        (comm as? MPICommunicator)?.finish()
    }

    /// Trains on this process's share of the job (all of it without mpirun).
    func train(_ comm: any Communicator, watchdog: Watchdog? = nil) throws {
        let say: (String) -> Void = { if comm.rank == 0 { print($0) } }
        let url = URL(fileURLWithPath: recipe)
        let (node, _) = try RecipeNode.load(url)
        let started = Date()
        guard PipelineRecipe.isPipeline(node) else {
            let stage = try Recipe.load(url, overrides: overrides)
            _ = try RecipeValidation.validate(url, overrides: overrides)
            _ = try runStage(stage, resume: resume, comm: comm, watchdog: watchdog)
            say(String(format: "trained in %.1f min", Date().timeIntervalSince(started) / 60))
            return
        }
        let (pipeline, stages) = try PipelineRecipe.load(url, overrides: overrides)
        // Check every stage, with every override, before training any (predicted parts stand in for outputs not
        // yet written): a bad --set fails now, not after the earlier stages have trained.
        _ = try RecipeValidation.validate(stages: stages)
        var last: URL?
        for (i, stage) in stages.enumerated() {
            let final = stage.finalCheckpoint
            if resume, FileManager.default.fileExists(atPath: final.path) {
                say("stage \(i + 1)/\(stages.count) \(stage.stage.rawValue): done (\(final.path))")
                last = final
                continue
            }
            say("stage \(i + 1)/\(stages.count) \(stage.stage.rawValue) → \(stage.output)")
            let outcome = try runStage(stage, resume: resume, comm: comm, watchdog: watchdog)
            if outcome.interrupted { return }
            last = outcome.checkpoint
        }
        let minutes = Date().timeIntervalSince(started) / 60
        say(String(format: "pipeline trained in %.1f min", minutes))
        // The model and its evaluation come from rank 0; the others are done.
        guard comm.rank == 0 else { return }
        // A pipeline whose last stage holds a whole model (every multimodal part) exports and evaluates it.
        guard let last, let final = stages.last,
            ModelAssembly.isMultimodal(try ModelConfigRecord.read(last))
        else { return }
        let model = try pipeline.exportModel(from: last, stages: stages)
        print("model (float16, recipe embedded): \(model.path)")
        if pipeline.evalCount > 0 {
            try EvalCommand.report(
                checkpoint: pipeline.modelURL, count: pipeline.evalCount, seed: pipeline.evalSeed,
                drawing: final.eval.drawing, json: false)
        }
    }

    /// The command that continues this run: the same recipe and overrides, with `--resume`.
    var resumeCommand: String {
        (["reverie", "train", recipe] + overrides.flatMap { ["--set", $0] } + ["--resume"]).map(shellQuoted)
            .joined(separator: " ")
    }

    func runStage(_ recipe: Recipe, resume: Bool, comm: any Communicator, watchdog: Watchdog?) throws -> TrainOutcome {
        let trainer = try Trainer(recipe: recipe, communicator: comm)
        trainer.quiet = quiet
        trainer.onProgress = watchdog.map { w in { w.beat() } }
        trainer.overlap = overlap
        trainer.bucketElements = max(1, Int(bucketMegabytes * 1e6 / 4))
        let resuming =
            resume && FileManager.default.fileExists(atPath: trainer.runDir.appendingPathComponent("last.h5").path)
        let outcome = try trainer.run(resume: resuming)
        guard comm.rank == 0 else { return outcome }
        if outcome.interrupted {
            print("stopped at step \(outcome.step); resume with: \(resumeCommand)")
        } else {
            let scores = outcome.evaluation.map { "\($0.0) \(String(format: "%.3f", $0.1))" }
                .joined(separator: ", ")
            print(
                "\(recipe.stage.rawValue): \(outcome.step) steps → \(outcome.checkpoint.path)"
                    + (scores.isEmpty ? "" : " (\(scores))"))
        }
        return outcome
    }
}

/// `word` as one shell word: unchanged when it is plain, else single-quoted.
func shellQuoted(_ word: String) -> String {
    let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./=,:@%+"))
    if !word.isEmpty, word.unicodeScalars.allSatisfy(plain.contains) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// `reverie recipes validate PATH...`
struct RecipesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipes", abstract: "Work with recipe files.", subcommands: [Validate.self])

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check recipes (keys, types, files, model shapes) without training.")

        @Argument(help: "Recipe files.")
        var paths: [String]

        @Option(name: .customLong("set"), help: "Override a recipe key (repeatable).")
        var overrides: [String] = []

        func run() throws {
            var failed = 0
            for path in paths {
                do {
                    for line in try RecipeValidation.validate(URL(fileURLWithPath: path), overrides: overrides) {
                        print("ok  \(line)")
                    }
                } catch {
                    failed += 1
                    print("bad \(error)")
                }
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
