import Foundation
import ReverieRuntime
import ReverieTrain

/// The workloads of `reverie bench stages`: one optimizer step of every stage of a pipeline recipe (by default
/// `recipes/shapes/pipeline.yaml`), each stage built from its recipe with fresh weights and frozen as the recipe
/// says, so its step costs what the real run's does. A step's FLOPs are not counted (they vary with its data:
/// sequence lengths, mixture kinds), so its cost is given in ceiling units: the GFLOP an sgemm at the ceiling does
/// in the same time, from the per-pair ratios (`Timing.paired`), which holds across hosts where milliseconds do not.
enum StageBench {
    static func run(pipeline url: URL, repeats: Int, ceiling: SGEMMCeiling) throws -> [BenchResult] {
        var (node, _) = try RecipeNode.load(url)
        // A root that does not exist: every `init: <run>` is predicted from the earlier stages' recipes.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-bench-\(UUID())")
        try node.override("root=\(root.path)")
        let pipeline = try PipelineRecipe(node: node)
        var predicted: [String: ModelParts] = [:]
        var results: [BenchResult] = []
        for recipe in try pipeline.loadStages() {
            let stage = try StageBuilder.fresh(recipe, predicted: predicted)
            predicted[recipe.name] = stage.parts
            let trainer = try Trainer(recipe: recipe, stage: stage)
            stage.model.train()
            // Enough steps per timed repeat for about half a second: single steps vary with their data.
            let first = try Timing.seconds { _ = try trainer.trainStep() }
            let steps = max(1, Int((0.5 / max(first, 1e-3)).rounded()))
            let m = try Timing.paired(repeats: repeats, ceiling: ceiling.run) {
                for _ in 0..<steps { _ = try trainer.trainStep() }
            }
            let perStep = m.seconds / Double(steps)
            let total = recipe.loop.steps
            results.append(
                BenchResult(
                    name: "stage_\(recipe.name)_step", seconds: perStep, gflops: 0, fractionOfCeiling: nil,
                    detail: [
                        "steps_per_second": 1 / perStep,
                        "stage_steps": Double(total),
                        "stage_minutes": Double(total) * perStep / 60,
                        "ceiling_gflop_per_step": ceiling.flops / m.pairRatio / Double(steps) * 1e-9,
                    ]))
        }
        if results.count > 1 {
            let minutes = results.reduce(0) { $0 + ($1.detail["stage_minutes"] ?? 0) }
            let cost = results.reduce(0) {
                $0 + ($1.detail["ceiling_gflop_per_step"] ?? 0) * ($1.detail["stage_steps"] ?? 0)
            }
            results.append(
                BenchResult(
                    name: "pipeline_training", seconds: minutes * 60, gflops: 0,
                    fractionOfCeiling: nil,
                    detail: ["stage_minutes": minutes, "ceiling_gflop": cost]))
        }
        return results
    }
}
