import Foundation
import ReverieCore
import ReverieData
import ReverieIO
import ReverieNN
import ReverieVision

/// The siglip stage's two towers, to ask which text an image goes with (image–text retrieval). Keys as the siglip
/// stage saves them and a pipeline exports them: `vision_encoder.*`, `text_tower.*`, `image_projection.*`,
/// `logit_scale`, `logit_bias`; the text tower reads bytes.
public final class TextImageScorer {
    public let model: SiglipContrastiveModel
    let text = ByteTextEncoder()
    let keyed: Module

    /// The towers of `parts.vision` and `parts.text` (fresh weights).
    public init(parts: ModelParts, rng: inout RNG) throws {
        let need = "image–text retrieval needs the siglip stage's vision encoder and text tower"
        guard let v = parts.vision else { throw RuntimeError.missingPart(.vision, needed: need) }
        guard let t = parts.text else { throw RuntimeError.missingPart(.text, needed: need) }
        let vision = VisionEncoderConfig(
            hiddenSize: v.hidden, intermediateSize: v.intermediate, numHiddenLayers: v.layers,
            numAttentionHeads: v.heads, imageSize: v.imageSize, patchSize: v.patch, useHead: false)
        let tower = TextTowerConfig(
            vocabSize: ByteTextEncoder().vocabularySize, hiddenSize: t.hidden, intermediateSize: t.intermediate,
            numHiddenLayers: t.layers, numAttentionHeads: t.heads, maxPositions: t.maxPositions,
            projectionDim: t.projection)
        var g = rng.forKey("siglip")
        model = try SiglipContrastiveModel(vision: vision, text: tower, rng: &g)
        keyed = ContrastiveKeys(model)
    }

    /// The trained towers of the checkpoint at `url`, or nil when it holds no text tower.
    public static func load(_ url: URL) throws -> TextImageScorer? {
        let record = try ModelConfigRecord.read(url)
        guard record.parts.text != nil, record.parts.vision != nil else { return nil }
        var rng = RNG(seed: 0)
        let scorer = try TextImageScorer(parts: record.parts, rng: &rng)
        let owned = [PartName.vision, .text]
        let stored = try Checkpoint.read(from: url, sections: [.model]).model
            .filter { k, _ in owned.contains { $0.owns(k) } && !k.hasPrefix("patch_") }
        try loadStateDict(stored, into: scorer.keyed.stateDict(), strict: true, file: url.path)
        scorer.model.eval()
        return scorer
    }

    /// The share of `images` whose own text (same index) scores highest among all `texts`.
    public func retrievalAccuracy(images: [PlanarImage], texts: [String]) throws -> Double {
        guard !images.isEmpty, images.count == texts.count else { return 0 }
        let (img, txt) = try withNoGrad {
            (
                try model.imageEmbeddings(concat(images.map { try $0.tensor().unsqueeze(0) }, axis: 0)),
                try model.textEmbeddings(
                    tokens: texts.map { model.truncated(text.encode($0)) }, padToken: text.padToken)
            )
        }
        return Self.topOneAccuracy(images: img, texts: txt)
    }

    /// The share of rows i of image embeddings [N, E] whose most similar (cosine) row of text embeddings [N, E] is
    /// row i.
    public static func topOneAccuracy(images img: Tensor, texts txt: Tensor) -> Double {
        let (n, d) = (img.shape[0], img.shape[1])
        guard n > 0 else { return 0 }
        let (a, b) = (img.toArray(), txt.toArray())
        func unit(_ v: ArraySlice<Float>) -> [Float] {
            let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            return v.map { $0 / norm }
        }
        let units = (0..<n).map { unit(b[($0 * d)..<(($0 + 1) * d)]) }
        var correct = 0
        for i in 0..<n {
            let q = unit(a[(i * d)..<((i + 1) * d)])
            let sims = units.map { t in zip(q, t).reduce(0) { $0 + $1.0 * $1.1 } }
            if sims.indices.max(by: { sims[$0] < sims[$1] }) == i { correct += 1 }
        }
        return Double(correct) / Double(n)
    }
}

/// The contrastive model under the part keys of a Reverie checkpoint: `vision_encoder.…` (the part later stages
/// initialise from), `text_tower.…`, `image_projection.…`, `logit_scale`, `logit_bias`, and any extra heads (the
/// siglip stage's learned patch heads) under their keys.
public final class ContrastiveKeys: Module {
    let m: SiglipContrastiveModel
    let heads: [(String, Linear)]
    public init(_ m: SiglipContrastiveModel, heads: [(String, Linear)] = []) {
        (self.m, self.heads) = (m, heads)
        super.init()
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("vision_encoder", m.vision)
        v.child("text_tower", m.text)
        v.child("image_projection", m.imageProjection)
        v.parameter("logit_scale", m.logitScale)
        v.parameter("logit_bias", m.logitBias)
        for (key, head) in heads { v.child(key, head) }
    }
}
