import Foundation
import ReverieCore
import ReverieData
import ReverieNN
import ReverieRuntime
import ReverieVision

/// The contrastive stage: the vision encoder and a small text tower learn a shared space from ShapesWorld
/// captions with the sigmoid loss (SigLIP). Its encoder is what later stages freeze and condition on.
/// With `loss.patch_labels` w > 0, a linear head on each patch's features also learns the shape under the patch
/// (`Scene.patchShapeLabels`, cross-entropy, weight w): the encoder then keeps what an object is at the object's own
/// tokens, where the decoder's spatial conditions read it, instead of only somewhere in the mean the sigmoid loss
/// sees. With `loss.patch_head: fixed` the head is not trained: constant orthonormal directions, one per label, read
/// the labels, so the features must carry shape loudly along them instead of as a faint direction a large head weight
/// can amplify. `loss.patch_colors` adds the same for the colour under each patch (its own head, or fixed directions
/// orthonormal to the shape ones), so colour stays loud beside shape. Evaluation: image → caption retrieval top-1
/// among the evaluation items, how loud shape and colour are in the features (`FeatureLoudness`), and each head's
/// accuracy on patches under an object.
final class SiglipStage: StageDefinition {
    static let kind = StageKind.siglip
    static let requiredParts: [PartName] = [.vision, .text]
    static func dataUses(_ recipe: Recipe) -> [DataUse] { [.imageText] }
    let siglip: SiglipContrastiveModel
    let model: Module
    let parts: ModelParts
    /// The training stream and the canvas its images are drawn at (evaluation uses the same canvas).
    let data: any TrainingData
    let canvas: Int
    /// `data.eval_manifest`, scored instead of ShapesWorld.
    let evalManifest: EvalManifest?
    let text = ByteTextEncoder()
    /// The per-patch readouts (`loss.patch_labels`, `loss.patch_colors`); empty without them.
    let patchTerms: [PatchTerm]
    let grid: Int

    init(parts: ModelParts, recipe: Recipe?, rng: inout RNG) throws {
        guard let v = parts.vision else { throw StageError.missingPart(.vision) }
        guard let t = parts.text else { throw StageError.missingPart(.text) }
        self.parts = parts
        let tower = TextTowerConfig(
            vocabSize: text.vocabularySize, hiddenSize: t.hidden,
            intermediateSize: t.intermediate, numHiddenLayers: t.layers,
            numAttentionHeads: t.heads, maxPositions: t.maxPositions,
            projectionDim: t.projection)
        var (gs, gh) = (rng.forKey("siglip"), rng.forKey("patch_heads"))
        siglip = try SiglipContrastiveModel(vision: v.encoderConfig, text: tower, rng: &gs)
        try PartBuilding.attach(v.lora, to: siglip.vision, rng: &gs)
        patchTerms = try PatchTerm.terms(recipe?.loss(Loss.self) ?? Loss(), hidden: v.hidden, rng: &gh)
        grid = v.grid
        model = ContrastiveKeys(siglip, heads: patchTerms.compactMap { t in t.head.linear.map { (t.key, $0) } })
        let spec = recipe?.data ?? DataSpec()
        (data, canvas) = (try spec.training(), spec.canvas)
        evalManifest = try spec.evalManifest.map { try EvalManifest(path: $0, canvas: spec.canvas) }
    }

    static func check(_ recipe: Recipe, loss: Loss) throws {
        guard loss.patchLabels > 0 || loss.patchColors > 0 else { return }
        let data = try recipe.data.training()
        guard data.hasSceneLabels else {
            throw recipe.error(
                loss.patchLabels > 0 ? "loss.patch_labels" : "loss.patch_colors",
                "reads ShapesWorld scene labels, which the data (\(data.name)) does not have")
        }
    }

    func tokens(_ caption: String) -> [Int] { siglip.truncated(text.encode(caption)) }

    func prefetch(indices: [Int]) { data.prefetch(indices.compactMap { try? data.imageText(at: $0).image }) }

    func loss(indices: [Int], rng: inout RNG) throws -> StageLoss {
        let samples = try indices.map { try data.imageText(at: $0) }
        let pixels = try StageImages.pixels(samples.map(\.image), data.images)
        let features = try siglip.features(pixels)  // [B, P, Dv]
        let l = try siglip.loss(
            image: siglip.imageEmbeddings(features: features),
            tokens: samples.map { tokens($0.text) }, padToken: text.padToken)
        var total = l, terms = [("sigmoid", try l.item())]
        for term in patchTerms {
            let ce = try crossEntropy(
                term.head.logits(features),
                targets: samples.flatMap { try labels(term.attribute, $0.image, from: data) })
            total = try total + ce * term.weight
            terms.append((term.lossName, try ce.item()))
        }
        return StageLoss(total: total, terms: terms)
    }

    /// The per-patch labels of a training image, from the source (`check` refused these losses for data
    /// without labels).
    func labels(_ attribute: PatchAttribute, _ image: ImageRef, from source: any TrainingData) throws -> [Int] {
        guard let labels = source.patchLabels(image, attribute, grid: grid) else {
            throw StageError.badData("patch labels: \(source.name) has none for \(image)")
        }
        return labels
    }

    func evaluate(count: Int, seed: UInt64, sheet: URL?, share: ItemShare) throws -> [(String, Double)] {
        if let evalManifest {  // retrieval among the manifest's image–text pairs
            let pairs = try evalManifest.pairs(count)
            let mine = Array(pairs[share.part(pairs.count)])
            return [("retrieval_top1", try retrieval(mine.map(\.image), mine.map(\.text), share: share).accuracy)]
        }
        let eval = ShapesWorld(seed: seed, canvas: canvas)
        let samples = share.part(count).map { eval.caption(at: $0) }
        let (accuracy, features) = try retrieval(
            samples.map { eval.render($0.scene) }, samples.map(\.text), share: share)
        // The loudness probe's scenes are fixed, not items to share: rank 0, which writes the metrics, measures it.
        let loudness = share.isRoot ? try FeatureLoudness.measure(canvas: canvas) { try siglip.features($0) } : []
        var scores = [("retrieval_top1", accuracy)] + loudness
        let labelled = ShapesSource(world: eval, mixture: [], editKinds: [])
        for term in patchTerms {
            var tally = Tally()
            if let features {
                let truth = try samples.flatMap { try labels(term.attribute, .scene($0.scene), from: labelled) }
                tally = try patchTally(term, features: features, labels: truth)
            }
            scores.append((term.scoreName, try share.gather(tally).reduce(Tally(), +).accuracy))
        }
        return scores
    }

    /// Image → text retrieval top-1 among the pairs of all ranks (each image's own text must score highest), given
    /// this rank's share of them in order; and the patch features of this rank's images (nil when it has none).
    func retrieval(_ images: [PlanarImage], _ texts: [String], share: ItemShare) throws
        -> (accuracy: Double, features: Tensor?)
    {
        var own = Embeddings(width: 0, images: [], texts: [])
        var features: Tensor?
        if !images.isEmpty {
            let (f, img, txt) = try withNoGrad {
                let f = try siglip.features(ImageBatch.pixels(images))
                return (
                    f, try siglip.imageEmbeddings(features: f),
                    try siglip.textEmbeddings(tokens: texts.map(tokens), padToken: text.padToken)
                )
            }
            features = f
            own = Embeddings(width: img.shape[1], images: img.toArray(), texts: txt.toArray())
        }
        let all = try share.gather(own)
        let width = all.map(\.width).max() ?? 0
        let rows = width == 0 ? 0 : all.reduce(0) { $0 + $1.images.count } / width
        let (img, txt) = (
            try Tensor(shape: [rows, width], data: all.flatMap(\.images)),
            try Tensor(shape: [rows, width], data: all.flatMap(\.texts))
        )
        return (TextImageScorer.topOneAccuracy(images: img, texts: txt), features)
    }

    /// One rank's image and text embeddings, rows in item order.
    struct Embeddings: Codable {
        let width: Int
        let images: [Float]
        let texts: [Float]
    }

    /// The patches under an object, and how many of them the term's head labels right.
    func patchTally(_ term: PatchTerm, features: Tensor, labels: [Int]) throws -> Tally {
        let logits = try withNoGrad { try term.head.logits(features) }.toArray(), r = term.attribute.classes
        var tally = Tally()
        for (t, label) in labels.enumerated() where label != 0 {
            let row = logits[(t * r)..<((t + 1) * r)]
            tally.record(row.indices.max { row[$0] < row[$1] }! - t * r == label)
        }
        return tally
    }
}
