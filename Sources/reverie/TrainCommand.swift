import ArgumentParser
import Foundation
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
            """)

    @Argument(help: "The recipe file (e.g. recipes/shapes/quickstart.yaml).")
    var recipe: String

    @Option(name: .customLong("set"), help: "Override a recipe key: --set optim.lr=1e-4 (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Continue the run in the recipe's output directory from its last checkpoint.")
    var resume = false

    @Flag(help: "No progress bar.")
    var quiet = false

    func run() throws {
        let url = URL(fileURLWithPath: recipe)
        let (node, _) = try RecipeNode.load(url)
        let started = Date()
        guard PipelineRecipe.isPipeline(node) else {
            let stage = try Recipe.load(url, overrides: overrides)
            _ = try RecipeValidation.validate(url, overrides: overrides)
            _ = try runStage(stage, resume: resume)
            print(String(format: "trained in %.1f min", Date().timeIntervalSince(started) / 60))
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
                print("stage \(i + 1)/\(stages.count) \(stage.stage.rawValue): done (\(final.path))")
                last = final
                continue
            }
            print("stage \(i + 1)/\(stages.count) \(stage.stage.rawValue) → \(stage.output)")
            let outcome = try runStage(stage, resume: resume)
            if outcome.interrupted { return }
            last = outcome.checkpoint
        }
        let minutes = Date().timeIntervalSince(started) / 60
        print(String(format: "pipeline trained in %.1f min", minutes))
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

    func runStage(_ recipe: Recipe, resume: Bool) throws -> TrainOutcome {
        let trainer = try Trainer(recipe: recipe)
        trainer.quiet = quiet
        let resuming =
            resume && FileManager.default.fileExists(atPath: trainer.runDir.appendingPathComponent("last.h5").path)
        let outcome = try trainer.run(resume: resuming)
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
