import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieIO
import ReverieMultimodal
import ReverieNN

/// Builds the composed model from part configurations, and loads a trained one from a checkpoint.
public enum ModelAssembly {
    /// The multimodal model over `parts` (fresh weights; the decoder frozen).
    public static func multimodal(_ parts: ModelParts, rng: inout RNG) throws -> MultimodalModel {
        guard let v = parts.vision, let a = parts.vae, let u = parts.unet, let l = parts.llm, let o = parts.output,
              let pr = parts.projector else {
            throw StageError.missingPart(StageKind.mllm.requiredParts.first { !parts.has($0) } ?? .llm)
        }
        let vision = try PartBuilding.vision(v, rng: &rng)
        let projector = try PartBuilding.projector(pr, vision: v, llm: l, rng: &rng)
        let llm = try PartBuilding.llm(l, rng: &rng)
        let vae = try PartBuilding.vae(a, rng: &rng)
        let unet = try PartBuilding.unet(u, latentChannels: a.latentChannels, conditionDim: v.hidden, rng: &rng)
        let decoder = try PartBuilding.decoder(vae: vae, unet: unet, u, conditionDim: v.hidden)
        let text = try l.textEncoder()
        guard l.vocab >= text.vocabularySize else {
            throw MultimodalError.invalidConfiguration(
                key: "llm.vocab", detail: "\(l.vocab) is below the tokenizer's \(text.vocabularySize) ids")
        }
        var config = MultimodalConfig(imageTokenId: text.imageToken, imageBeginTokenId: text.imageBeginToken,
                                      outputMode: OutputImageMode(rawValue: o.mode) ?? .queries,
                                      numQueries: u.conditionTokens, head: OutputHeadKind(rawValue: o.head) ?? .mlp,
                                      headHidden: o.headHidden, visualPositions: VisualPositionKind(rawValue: pr.positions) ?? .none,
                                      residualConditions: o.residual, sourceQueries: o.sourceQueries == true)
        config.changeHead = o.changeHead == true
        config.describeEdits = o.describeEdits == true
        return try MultimodalModel(config: config, visionEncoder: vision, projector: projector, llm: llm,
                                   decoder: decoder, rng: &rng)
    }

    /// A trained multimodal model from a checkpoint written by the mllm stage (or any checkpoint holding every
    /// part), weights widened from float16 if stored so.
    ///
    /// - Throws: `RecipeError` naming the file when it is not a Reverie model or lacks a part.
    public static func loadMultimodal(_ url: URL) throws -> (MultimodalModel, ModelConfigRecord) {
        let record = try StageBuilder.readRecord(url.path)
        for p in StageKind.mllm.requiredParts where !record.parts.has(p) {
            throw RecipeError(file: url.path, line: nil, key: "model_config",
                              message: "has no '\(p.rawValue)' part: captioning, generating and editing need a "
                                + "checkpoint of the mllm stage (or the pipeline's final one)")
        }
        var rng = RNG(seed: 0)
        let model = try multimodal(record.parts, rng: &rng)
        _ = try Checkpoint.loadModel(from: url, into: model.stateDict(), strict: true)
        model.eval()
        return (model, record)
    }
}

extension ModelAssembly {
    /// Reconstruction scores of a decoder-stage checkpoint (encoder + VAE + UNet, no LLM): ShapesWorld scenes of a
    /// world seeded `seed` → encoder conditions → decoder (`steps`, `guidance`, noise `noiseSeed`) → evaluator.
    public static func evaluateDecoder(_ url: URL, count: Int, seed: UInt64, steps: Int, guidance: Float,
                                       sheet: URL? = nil) throws -> [(String, Double)] {
        let record = try StageBuilder.readRecord(url.path)
        for p in StageKind.decoder.requiredParts where !record.parts.has(p) {
            throw RecipeError(file: url.path, line: nil, key: "model_config",
                              message: "has no '\(p.rawValue)' part: reconstruction needs the encoder, VAE and UNet")
        }
        var rng = RNG(seed: 0)
        let stage = try DecoderStage(parts: record.parts, recipe: nil, rng: &rng)
        let stored = try Checkpoint.read(from: url, sections: [.model]).model
        try loadStateDict(stored.filter { k, _ in [PartName.vision, .vae, .unet].contains { $0.owns(k) } },
                          into: stage.model.stateDict(), strict: true, file: url.path)
        stage.model.eval()
        (stage.sampleSteps, stage.guidance) = (steps, guidance)
        return try stage.evaluate(count: count, seed: seed, sheet: sheet)
    }
}

/// A trained model as four functions on ShapesWorld images and text (what `ShapesSuite` and the CLI call).
public struct ModelRunner {
    public let model: MultimodalModel
    public var steps: Int
    public var guidance: Float
    public var seed: UInt64
    /// The tokenizer the model was trained with.
    public let text: any TextEncoder
    /// Whether and how edits keep what the instruction leaves alone (nil: the decoder redraws everything).
    public var keeping: SourceKeeping?

    public init(model: MultimodalModel, text: any TextEncoder, steps: Int, guidance: Float, seed: UInt64,
                keeping: SourceKeeping? = nil) {
        (self.model, self.text, self.steps, self.guidance, self.seed) = (model, text, steps, guidance, seed)
        self.keeping = keeping
    }

    var imageSize: Int { model.visionEncoder.config.imageSize }

    /// Checks an input image's size against the model.
    func check(_ image: PlanarImage) throws {
        guard image.size == imageSize else {
            throw MultimodalError.invalidExample(
                detail: "image is \(image.size)×\(image.size); this model takes \(imageSize)×\(imageSize)")
        }
    }

    public func caption(_ image: PlanarImage) throws -> String {
        try check(image)
        var ids = try model.caption(image: image.tensor(), maxTokens: 192, stopToken: text.endToken)
        if ids.last == text.endToken { ids.removeLast() }
        return text.decode(ids)
    }

    public func generate(_ prompt: String) throws -> PlanarImage {
        let ids = text.encode(prompt)
        guard !ids.isEmpty else { throw MultimodalError.invalidExample(detail: "the prompt is empty") }
        let out = try model.generateImage(prompt: ids, imageSize: (imageSize, imageSize), steps: steps,
                                          guidance: guidance, seed: seed)
        return try ShapesBatch.images(fromSigned: out)[0]
    }

    public func edit(_ image: PlanarImage, _ instruction: String) throws -> PlanarImage {
        try describedEdit(image, instruction).image
    }

    /// `edit`, and what a model with described edits said the result would be (nil for a model without them): the
    /// text it wrote before drawing, written once.
    public func describedEdit(_ image: PlanarImage, _ instruction: String) throws
        -> (image: PlanarImage, said: String?) {
        try check(image)
        let ids = text.encode(instruction)
        guard !ids.isEmpty else { throw MultimodalError.invalidExample(detail: "the instruction is empty") }
        let prompt = [text.imageToken] + ids, source = try image.tensor()
        let said = try model.describeEdit(prompt: prompt, images: [source])
        let out = try model.generateImage(prompt: prompt, images: [source], imageSize: (imageSize, imageSize),
                                          steps: steps, guidance: guidance, seed: seed, keeping: keeping,
                                          description: said)
        return (try ShapesBatch.images(fromSigned: out)[0],
                model.config.describeEdits ? text.decode(said).trimmingCharacters(in: .whitespaces) : nil)
    }

    /// The decoder's ceiling for an edit: the `target` image's own encoder conditions drawn as `edit` draws the
    /// LLM's (the `source` latent, and kept where the conditions leave the source's alone). An edit that fails here
    /// fails for the decoder, whatever the LLM predicts.
    public func editOracle(_ source: PlanarImage, _ target: PlanarImage) throws -> PlanarImage {
        try check(source)
        try check(target)
        let conditions = try model.targetConditions(images: try target.tensor().unsqueeze(0))
        let out = try model.draw(conditions: conditions, source: try source.tensor(),
                                 imageSize: (imageSize, imageSize), steps: steps, guidance: guidance, seed: seed,
                                 keeping: keeping)
        return try ShapesBatch.images(fromSigned: out)[0]
    }

    /// Interleaved output: the model's text and the images it draws where it writes `<img>`, in order.
    public func interleaved(_ prompt: String, maxImages: Int = 4) throws -> [(text: String?, image: PlanarImage?)] {
        let ids = text.encode(prompt)
        guard !ids.isEmpty else { throw MultimodalError.invalidExample(detail: "the prompt is empty") }
        let pieces = try model.generateInterleaved(prompt: ids, stopToken: text.endToken, maxImages: maxImages,
                                                   imageSize: (imageSize, imageSize), steps: steps,
                                                   guidance: guidance, seed: seed)
        return try pieces.map { piece in
            switch piece {
            case let .tokens(t):
                return (text.decode(t), nil)
            case let .image(x):
                return (nil, try ShapesBatch.images(fromSigned: x)[0])
            }
        }
    }

    /// Encode → decode: the encoder's conditions of the image, drawn by the decoder.
    public func reconstruct(_ image: PlanarImage) throws -> PlanarImage {
        try check(image)
        let decoder = try self.decoder()
        let pixels = try image.tensor().unsqueeze(0)
        let c = try model.targetConditions(images: pixels)
        let out = try decoder.decode(conditions: c, imageSize: (imageSize, imageSize), steps: steps,
                                     guidance: guidance, seed: seed)
        return try ShapesBatch.images(fromSigned: out)[0]
    }

    /// Encode → decode through the autoencoder alone (no encoder conditions, no denoiser): what any drawing of the
    /// decoder can at best look like.
    public func autoencode(_ image: PlanarImage) throws -> PlanarImage {
        try check(image)
        let decoder = try self.decoder()
        let latents = try decoder.latents(images: image.tensor().unsqueeze(0))
        return try ShapesBatch.images(fromSigned: withNoGrad { try decoder.vae.decodeLatents(latents) })[0]
    }

    private func decoder() throws -> LatentDiffusionDecoder {
        guard let decoder = model.decoder else {
            throw MultimodalError.invalidConfiguration(key: "decoder", detail: "the model has no decoder")
        }
        return decoder
    }
}
