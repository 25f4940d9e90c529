import Foundation
import ReverieCore
import ReverieData
import ReverieNN
import ReverieVision

/// The contrastive stage: the vision encoder and a small text tower learn a shared space from ShapesWorld
/// captions with the sigmoid loss (SigLIP). Its encoder is what later stages freeze and condition on.
/// Evaluation: image → caption retrieval top-1 among the evaluation items.
final class SiglipStage: TrainingStage {
    let kind = StageKind.siglip
    let siglip: SiglipContrastiveModel
    let model: Module
    let parts: ModelParts
    let world: ShapesWorld
    let text = ByteTextEncoder()

    init(parts: ModelParts, recipe: Recipe?, rng: inout RNG) throws {
        guard let v = parts.vision else { throw StageError.missingPart(.vision) }
        guard let t = parts.text else { throw StageError.missingPart(.text) }
        self.parts = parts
        let vision = VisionEncoderConfig(hiddenSize: v.hidden, intermediateSize: v.intermediate,
                                         numHiddenLayers: v.layers, numAttentionHeads: v.heads,
                                         imageSize: v.imageSize, patchSize: v.patch, useHead: false)
        let tower = TextTowerConfig(vocabSize: text.vocabularySize, hiddenSize: t.hidden,
                                    intermediateSize: t.intermediate, numHiddenLayers: t.layers,
                                    numAttentionHeads: t.heads, maxPositions: t.maxPositions,
                                    projectionDim: t.projection)
        siglip = try SiglipContrastiveModel(vision: vision, text: tower, rng: &rng)
        model = SiglipKeys(siglip)
        world = ShapesWorld(seed: recipe?.data.worldSeed ?? 1, canvas: recipe?.data.canvas ?? 64)
    }

    func tokens(_ caption: String) -> [Int] { text.encode(caption) }

    func loss(indices: Range<Int>, rng: inout RNG) throws -> StageLoss {
        let samples = indices.map { world.caption(at: $0) }
        let pixels = try ShapesBatch.pixels(samples.map { world.render($0.scene) })
        let l = try siglip.loss(pixels: pixels, tokens: samples.map { tokens($0.text) }, padToken: text.padToken)
        return StageLoss(total: l, terms: [("sigmoid", try l.item())])
    }

    func evaluate(count: Int, seed: UInt64, sheet: URL?) throws -> [(String, Double)] {
        let eval = ShapesWorld(seed: seed, canvas: world.rasterizer.canvas)
        let samples = (0..<count).map { eval.caption(at: $0) }
        let (img, txt) = try withNoGrad {
            (try siglip.imageEmbeddings(ShapesBatch.pixels(samples.map { eval.render($0.scene) })),
             try siglip.textEmbeddings(tokens: samples.map { tokens($0.text) }, padToken: text.padToken))
        }
        let d = img.shape[1]
        let (a, b) = (img.toArray(), txt.toArray())
        func unit(_ v: ArraySlice<Float>) -> [Float] {
            let n = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            return v.map { $0 / n }
        }
        let texts = (0..<count).map { unit(b[($0 * d)..<(($0 + 1) * d)]) }
        var correct = 0
        for i in 0..<count {
            let q = unit(a[(i * d)..<((i + 1) * d)])
            let sims = texts.map { t in zip(q, t).reduce(0) { $0 + $1.0 * $1.1 } }
            if sims.indices.max(by: { sims[$0] < sims[$1] }) == i { correct += 1 }
        }
        return [("retrieval_top1", Double(correct) / Double(max(count, 1)))]
    }
}

/// The contrastive model under Reverie's part keys: `vision_encoder.…` (the part later stages initialise from),
/// `text_tower.…`, `image_projection.…`, `logit_scale`, `logit_bias`.
final class SiglipKeys: Module {
    let m: SiglipContrastiveModel
    init(_ m: SiglipContrastiveModel) {
        self.m = m
        super.init()
    }

    override func visit(_ v: inout ModuleVisitor) {
        v.child("vision_encoder", m.vision)
        v.child("text_tower", m.text)
        v.child("image_projection", m.imageProjection)
        v.parameter("logit_scale", m.logitScale)
        v.parameter("logit_bias", m.logitBias)
    }
}
