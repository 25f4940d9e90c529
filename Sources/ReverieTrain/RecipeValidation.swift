import Foundation
import ReverieCore
import ReverieRuntime

/// `reverie recipes validate`: reads recipes and builds their models (fresh weights, no training) so that every
/// key, type, file and shape problem surfaces with its file and line; then runs one item forward and backward to say
/// what a training step will hold, and refuses a step that cannot fit (`StepMemoryCheck`).
public enum RecipeValidation {
    /// Validates one file (stage or pipeline); returns a one-line summary per stage.
    ///
    /// A stage that initialises from an earlier stage's output that does not exist yet is checked against the
    /// parts that stage's recipe will produce: in a pipeline, the earlier stages; for a lone stage file, the
    /// sibling recipe `<stage>.yaml` beside it.
    public static func validate(_ url: URL, overrides: [String] = []) throws -> [String] {
        let (node, _) = try RecipeNode.load(url)
        if PipelineRecipe.isPipeline(node) {
            return try validate(stages: PipelineRecipe.load(url, overrides: overrides).1)
        }
        let recipe = try Recipe.load(url, overrides: overrides)
        var predicted: [String: ModelParts] = [:]
        var visiting: Set<String> = [url.standardizedFileURL.path]
        try predictSiblings(of: recipe, in: url.deletingLastPathComponent(), into: &predicted, visiting: &visiting)
        let stage = try StageBuilder.check(recipe, parts: StageBuilder.resolveParts(recipe, predicted: predicted))
        return [summary(recipe, stage) + (try memory(recipe, stage))]
    }

    /// Validates a pipeline's stage recipes in order, each over the parts the earlier ones will produce.
    public static func validate(stages: [Recipe]) throws -> [String] {
        var predicted: [String: ModelParts] = [:]
        return try stages.map { recipe in
            let stage = try StageBuilder.check(recipe, parts: StageBuilder.resolveParts(recipe, predicted: predicted))
            predicted[recipe.name] = stage.parts
            return summary(recipe, stage) + (try memory(recipe, stage))
        }
    }

    /// The parts that the sibling recipes of `recipe`'s missing `init: <run>` inputs (`<run>.yaml`) would produce,
    /// recursively (`visiting`: the recipe files on the way, so a file never predicts from itself).
    static func predictSiblings(
        of recipe: Recipe, in dir: URL, into predicted: inout [String: ModelParts],
        visiting: inout Set<String>
    ) throws {
        for case let .checkpoint(path, run?, _) in recipe.sources.values
        where !FileManager.default.fileExists(atPath: path) && predicted[run] == nil {
            let sibling = dir.appendingPathComponent("\(run).yaml")
            guard FileManager.default.fileExists(atPath: sibling.path),
                !visiting.contains(sibling.standardizedFileURL.path)
            else { continue }
            visiting.insert(sibling.standardizedFileURL.path)
            let earlier = try Recipe.load(sibling, overrides: ["root=\(recipe.root)"])
            try predictSiblings(of: earlier, in: dir, into: &predicted, visiting: &visiting)
            predicted[run] = try StageBuilder.resolveParts(earlier, predicted: predicted)
        }
    }

    /// `, a step holds about N GB` for one process running `recipe`'s step, measured on the first item; throws when
    /// that is more than twice this machine's memory (as `train` would, before its first step).
    static func memory(_ recipe: Recipe, _ stage: any TrainingStage) throws -> String {
        let plan = try StepPlan(
            batch: recipe.loop.batch, accumulate: recipe.loop.accumulate, ranks: 1, rank: 0, file: recipe.file)
        do {
            guard
                let (bytes, detail) = try StepMemoryCheck.estimate(
                    stage: stage, position: 0, rng: Trainer.initialRNG(recipe), plan: plan,
                    trainable: stage.model.trainableParameterCount)
            else { return "" }
            try StepMemoryCheck.refuse(bytes, detail)
            return String(format: ", a step holds about %.2f GB", bytes / 1e9)
        } catch let error as RecipeError {
            throw error
        } catch let error as TrainError {
            throw recipe.error("train.batch", "\(error)")
        } catch {
            throw recipe.error("data", "the first training item fails: \(error)")
        }
    }

    static func summary(_ recipe: Recipe, _ stage: any TrainingStage) -> String {
        let total = stage.model.parameterCount
        let frozen = (recipe.freeze.map(\.rawValue) + recipe.freezePatterns.map(\.description)).joined(separator: ", ")
        return "\(recipe.file): \(recipe.stage.rawValue) stage, \(total) parameters, "
            + "\(stage.model.trainableParameterCount) trained"
            + (frozen.isEmpty ? "" : ", frozen: \(frozen)")
            + ", \(recipe.loop.steps) steps × batch \(recipe.loop.batch)"
            + (recipe.loop.accumulate > 1 ? " × \(recipe.loop.accumulate) micro-batches" : "")
            + " → \(recipe.output)"
    }
}
