import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieMultimodal
import ReverieNN
import ReverieRuntime

/// The multimodal stage: encoder + projector + LLM + output head over the frozen decoder, trained on a ShapesWorld
/// mixture of captions, text-to-image prompts, edits and interleaved sequences with the mixed loss
/// (cross-entropy on text, regression on conditions, optional denoising through the decoder).
/// Evaluation: the four ShapesWorld scores.
final class MLLMStage: StageDefinition {
    static let kind = StageKind.mllm
    static let requiredParts = ModelAssembly.multimodalParts
    static func dataUses(_ recipe: Recipe) -> [DataUse] { [.record] }
    static let dataKeys: Set = ["mixture", "edit_kinds"]
    let mm: MultimodalModel
    /// `mm`, or `mm` with the shape probe's keys when the recipe has one.
    let model: Module
    /// `loss.shape_probe` (nil when its weight is 0).
    let probe: ShapeProbe?
    var exportedModel: Module { mm }
    let parts: ModelParts
    /// The training stream and its canvas.
    let data: any TrainingData
    let canvas: Int
    /// `data.eval_manifest`: the stage's evaluation scores it (`ManifestSuite`) instead of ShapesWorld.
    let evalManifest: String?
    let lossConfig: MultimodalLossConfig
    let builder: ExampleBuilder
    /// How evaluation draws (sampler, steps, guidance, source keeping).
    let drawing: DrawingOptions

    init(parts: ModelParts, recipe: Recipe?, rng: inout RNG) throws {
        self.parts = parts
        mm = try ModelAssembly.multimodal(parts, rng: &rng)
        // The recipe's freeze list decides, as in every stage: an unfrozen UNet trains by the denoising loss.
        if let recipe, !recipe.freeze.contains(.unet) {
            for prefix in PartName.unet.prefixes { _ = try? mm.unfreeze(prefix: prefix) }
        }
        let spec = recipe?.data ?? DataSpec()
        (data, canvas, evalManifest) = (try spec.training(), spec.canvas, spec.evalManifest)
        builder = ExampleBuilder(encoder: try parts.textEncoder(), images: data.images)
        let l = recipe?.loss(Loss.self) ?? Loss()
        let config = l.multimodal
        if config.changeWeight > 0, mm.changeHead == nil, let recipe {
            throw recipe.error("loss.change", "the model's output part has no change head (output.change_head: true)")
        }
        if config.shortfallWeight > 0, !mm.config.residualConditions, let recipe {
            throw recipe.error(
                "loss.change_shortfall", "the model's output part is not residual (output.residual: true)")
        }
        lossConfig = config
        var probeRNG = rng.forKey("shape_probe")
        if l.shapeProbe > 0 {
            guard let v = parts.vision else { throw StageError.missingPart(.vision) }  // multimodal() checked
            let probe = try ShapeProbe(
                conditionDim: v.hidden,
                weight: Float(l.shapeProbe), rng: &probeRNG)
            self.probe = probe
            model = ProbedMultimodal(mm, probe: probe.head)
        } else {
            probe = nil
            model = mm
        }
        drawing = recipe?.eval.drawing ?? DrawingOptions()
    }

    static func check(_ recipe: Recipe, loss: Loss) throws {
        if loss.shapeProbe > 0 {
            let data = try recipe.data.training()
            guard data.hasSceneLabels else {
                throw recipe.error(
                    "loss.shape_probe", "reads ShapesWorld scene labels, which the data (\(data.name)) does not have")
            }
        }
        guard recipe.sources[.output] == .build else { return }  // a loaded output part is checked when built
        if loss.change > 0, recipe.parts.output?.changeHead != true {
            throw recipe.error("loss.change", "the change loss needs model.output.change_head: true")
        }
        if loss.changeShortfall > 0, recipe.parts.output?.residual != true {
            throw recipe.error("loss.change_shortfall", "the change shortfall needs model.output.residual: true")
        }
    }

    func prefetch(indices: [Int]) { data.prefetch(indices.flatMap { (try? record($0))?.images ?? [] }) }

    /// The record at data index `i` (a pure function of the index: exact resume).
    func record(_ i: Int) throws -> DataRecord { try data.record(at: i, describeEdits: mm.config.describeEdits) }

    func loss(indices: [Int], rng: inout RNG) throws -> StageLoss {
        let records = try indices.map(record)
        let examples = try records.map { MultimodalExample(try builder.build($0)) }
        let l = try mm.losses(examples, config: lossConfig, rng: &rng)
        var terms = [("ce", try l.crossEntropy.item()), ("regression", try l.regression.item())]
        if lossConfig.diffusionWeight > 0 { terms.append(("diffusion", try l.diffusion.item())) }
        if lossConfig.changeWeight > 0 { terms.append(("change", try l.change.item())) }
        if lossConfig.shortfallWeight > 0 { terms.append(("shortfall", try l.shortfall.item())) }
        var total = l.total
        if let probe {
            var own = Tensor(scalar: 0), read = Tensor(scalar: 0)
            if let predicted = l.predictedConditions, let target = l.targetConditions {
                (own, read) = try probe.terms(
                    predicted: predicted, target: target,
                    images: records.flatMap(\.outputImages), source: data)
                total = try total + (own + read) * probe.weight
            }
            terms += [("probe", try own.item()), ("shape", try read.item())]
        }
        return StageLoss(total: total, terms: terms)
    }

    /// Micro-batches of even cost: an item costs its expanded sequence length (the LLM's work; `balanced`).
    /// Refuses a `max_positions` shorter than the sequences the first `sample` records expand to (training would
    /// stop at the first such record; validation says so first).
    func checkPositions(_ recipe: Recipe, sample: Int = 64) throws {
        let limit = mm.llm.config.maxPositionEmbeddings
        for i in 0..<sample {
            guard let r = try? record(i) else { continue }
            let length = mm.expandedLength(tokens: builder.tokens(r))
            if length > limit {
                throw recipe.error(
                    "model.llm.max_positions",
                    "\(limit) is shorter than the sequences of the data (item \(i) expands to \(length) positions)")
            }
        }
    }

    func partition(_ indices: Range<Int>, parts: Int) -> [[Int]] {
        let costs = indices.map { i in (try? record(i)).map { mm.expandedLength(tokens: builder.tokens($0)) } ?? 0 }
        return MicroBatchPartition.balanced(Array(indices), costs: costs, parts: parts)
    }

    func evaluate(count: Int, seed: UInt64, sheet: URL?, share: ItemShare) throws -> [(String, Double)] {
        var options = drawing
        options.seed = seed
        let runner = ModelRunner(model: mm, text: builder.encoder, drawing: options)
        if let evalManifest {
            return try ManifestSuite(url: URL(fileURLWithPath: evalManifest), count: count).run(runner, share: share)
        }
        let suite = ShapesSuite(world: ShapesWorld(seed: seed, canvas: canvas), count: count)
        let report = try suite.run(
            items: share.mine(count), caption: runner.caption, generate: runner.generate, edit: runner.edit,
            reconstruct: runner.reconstruct
        ).merged(over: share)
        if let sheet {
            let eval = suite.world
            // One column per item, drawn concurrently (as the suite's items are): generated, source, edit, target.
            let columns = try ThreadPolicy.concurrentResults(min(count, 6)) { i -> [PlanarImage] in
                let e = eval.edit(at: i)
                return [
                    try runner.generate(eval.textToImage(at: i).text), eval.render(e.source),
                    try runner.edit(eval.render(e.source), e.instruction), eval.render(e.target),
                ]
            }
            try ImageBatch.writeSheet((0..<4).map { r in columns.map { $0[r] } }, to: sheet)
        }
        return report.scores
    }
}

extension ShapesSuiteReport {
    /// The headline figures, named as metrics.jsonl and `reverie eval --json` report them.
    public var scores: [(String, Double)] {
        [
            ("caption_exact", captionExactMatch.accuracy), ("text_to_image", textToImage.attributeAccuracy),
            ("edit", edit.accuracy), ("edit_two_turn", twoTurnEdit.accuracy),
            ("reconstruction", reconstruction.attributeAccuracy),
        ]
    }
}
