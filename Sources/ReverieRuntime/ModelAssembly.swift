import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieIO
import ReverieMultimodal
import ReverieNN

/// Builds the composed model from part configurations, and loads a trained one from a checkpoint.
public enum ModelAssembly {
    /// The parts a multimodal model is made of.
    public static let multimodalParts: [PartName] = [.vision, .projector, .llm, .output, .vae, .unet]

    /// The multimodal model over `parts` (fresh weights; the decoder frozen).
    public static func multimodal(_ parts: ModelParts, rng: inout RNG) throws -> MultimodalModel {
        guard let v = parts.vision, let a = parts.vae, let u = parts.unet, let l = parts.llm, let o = parts.output,
            let pr = parts.projector
        else {
            throw RuntimeError.missingPart(
                multimodalParts.first { !parts.has($0) } ?? .llm,
                needed: "a multimodal model needs \(multimodalParts.map(\.rawValue))")
        }
        // Each part seeds from its key (`RNG.forKey`), so no part's weights depend on which others exist.
        var (gv, gp, gl) = (rng.forKey("vision_encoder"), rng.forKey("projector"), rng.forKey("llm"))
        var (ga, gu) = (rng.forKey("decoder.vae"), rng.forKey("decoder.unet"))
        let vision = try PartBuilding.vision(v, rng: &gv)
        let projector = try PartBuilding.projector(pr, vision: v, llm: l, rng: &gp)
        let llm = try PartBuilding.llm(l, rng: &gl)
        let vae = try PartBuilding.vae(a, rng: &ga)
        let unet = try PartBuilding.unet(u, latentChannels: a.latentChannels, conditionDim: v.hidden, rng: &gu)
        let decoder = try PartBuilding.decoder(vae: vae, unet: unet, u, conditionDim: v.hidden)
        let text = try l.textEncoder()
        guard l.vocab >= text.vocabularySize else {
            throw MultimodalError.invalidConfiguration(
                key: "llm.vocab", detail: "\(l.vocab) is below the tokenizer's \(text.vocabularySize) ids")
        }
        var config = MultimodalConfig(
            imageTokenId: text.imageToken, imageBeginTokenId: text.imageBeginToken,
            outputMode: o.mode, numQueries: u.conditionTokens, head: o.head,
            headHidden: o.headHidden, visualPositions: pr.positions,
            residualConditions: o.residual, sourceQueries: o.sourceQueries)
        config.changeHead = o.changeHead
        config.describeEdits = o.describeEdits
        config.prefixTokenIds = text.sequencePrefix
        return try MultimodalModel(
            config: config, visionEncoder: vision, projector: projector, llm: llm,
            decoder: decoder, rng: &rng)
    }

    /// A trained multimodal model from a checkpoint written by the mllm stage (or any checkpoint holding every
    /// part), weights widened from float16 if stored so.
    ///
    /// - Throws: `RuntimeError` naming the file when it is not a Reverie model or lacks a part.
    public static func loadMultimodal(_ url: URL) throws -> (MultimodalModel, ModelConfigRecord) {
        let record = try ModelConfigRecord.read(url)
        for p in multimodalParts where !record.parts.has(p) {
            throw RuntimeError.badModel(
                file: url.path,
                detail: "model_config has no '\(p.rawValue)' part: captioning, generating and editing "
                    + "need a checkpoint of the mllm stage (or the pipeline's final one)")
        }
        var rng = RNG(seed: 0)
        let model = try multimodal(record.parts, rng: &rng)
        // Strict over the model's own parts; a checkpoint may carry more (a pipeline's model.h5 keeps the siglip
        // stage's text tower for retrieval scores).
        let stored = try Checkpoint.read(from: url, sections: [.model]).model
            .filter { k, _ in multimodalParts.contains { $0.owns(k) } }
        try loadStateDict(stored, into: model.stateDict(), strict: true, file: url.path)
        model.eval()
        return (model, record)
    }

    /// Whether the checkpoint at `url` holds a whole multimodal model (else it may be a decoder stage's).
    public static func isMultimodal(_ record: ModelConfigRecord) -> Bool {
        multimodalParts.allSatisfy(record.parts.has)
    }
}
