import Foundation
import ReverieCore
import ReverieDistributed
import ReverieRuntime
import ReverieTrain

/// `reverie bench parallel`, alone or under `mpirun -np N`: training steps of chosen stages of a pipeline recipe
/// (fresh weights, frozen as the recipe says; every rank builds the same), timed as one job, with the seconds each
/// step waited on the all-reduce. Comparing `REVERIE_THREADS=2 reverie bench parallel` with
/// `mpirun -np 2 reverie bench parallel` (one thread each) says whether ranks or threads use two cores better;
/// `--no-overlap` measures the all-reduce left after backward.
struct ParallelReport: Codable {
    struct Stage: Codable {
        var stage: String
        var secondsPerStep: Double
        /// Mean over ranks of the seconds per step spent waiting on collectives.
        var communicationSecondsPerStep: Double
        var trainableParameters: Int
    }
    var ranks: Int
    var threadsPerRank: Int
    var overlap: Bool
    var steps: Int
    var stages: [Stage]
}

enum ParallelBench {
    static func run(pipeline url: URL, stages names: [String], steps: Int, overlap: Bool) throws
        -> (ParallelReport, any Communicator)
    {
        let comm = try DistributedLaunch.communicator()
        var (node, _) = try RecipeNode.load(url)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-bench-\(UUID())")
        try node.override("root=\(root.path)")
        var predicted: [String: ModelParts] = [:]
        var results: [ParallelReport.Stage] = []
        for recipe in try PipelineRecipe(node: node).loadStages() {
            let stage = try StageBuilder.fresh(recipe, predicted: predicted)
            predicted[recipe.name] = stage.parts
            guard names.contains(recipe.name) else { continue }
            let trainer = try Trainer(recipe: recipe, stage: stage, communicator: comm)
            trainer.overlap = overlap
            stage.model.train()
            for _ in 0..<2 { _ = try trainer.trainStep() }  // warm-up: first-touch memory, caches
            try comm.barrier()
            let waited = trainer.communicationSeconds
            let seconds = try Timing.seconds { for _ in 0..<steps { _ = try trainer.trainStep() } }
            var sums = [seconds, trainer.communicationSeconds - waited]
            try sums.withUnsafeMutableBufferPointer { try comm.allreduceSum($0) }
            let ranks = Double(comm.size), count = Double(steps)
            results.append(
                ParallelReport.Stage(
                    stage: recipe.name, secondsPerStep: sums[0] / ranks / count,
                    communicationSecondsPerStep: sums[1] / ranks / count,
                    trainableParameters: stage.model.trainableParameters().reduce(0) { $0 + $1.1.count }))
        }
        let unknown = Set(names).subtracting(results.map(\.stage))
        guard unknown.isEmpty else {
            throw CocoaError(
                .featureUnsupported,
                userInfo: [NSLocalizedDescriptionKey: "no stage named \(unknown.sorted()) in \(url.path)"])
        }
        return (
            ParallelReport(
                ranks: comm.size, threadsPerRank: ThreadPolicy.threads, overlap: overlap, steps: steps,
                stages: results), comm
        )
    }
}
