import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieMultimodal
import ReverieNN

/// A trained model as four functions on ShapesWorld images and text (what `ShapesSuite` and the CLI call).
public struct ModelRunner {
    public let model: MultimodalModel
    /// The tokenizer the model was trained with.
    public let text: any TextEncoder
    /// Sampler, steps, guidance, noise seed, and how edits keep what the instruction leaves alone.
    public var drawing: DrawingOptions

    public init(model: MultimodalModel, text: any TextEncoder, drawing: DrawingOptions = .init()) {
        (self.model, self.text, self.drawing) = (model, text, drawing)
    }

    /// The trained model of the checkpoint at `url`, drawing as `drawing` says.
    public static func load(_ url: URL, drawing: DrawingOptions = .init()) throws -> ModelRunner {
        let (model, record) = try ModelAssembly.loadMultimodal(url)
        return ModelRunner(model: model, text: try record.parts.textEncoder(), drawing: drawing)
    }

    var steps: Int { drawing.steps }
    var guidance: Float { drawing.guidance }
    var seed: UInt64 { drawing.seed }
    var keeping: SourceKeeping? { drawing.keeping }
    var sampler: any SamplerConfig { drawing.sampler.config }

    /// The side of the square images the model reads and draws.
    public var imageSize: Int { model.visionEncoder.config.imageSize }

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
        let out = try model.generateImage(
            prompt: ids, imageSize: (imageSize, imageSize), steps: steps,
            guidance: guidance, sampler: sampler, seed: seed)
        return try ImageBatch.images(fromSigned: out)[0]
    }

    public func edit(_ image: PlanarImage, _ instruction: String) throws -> PlanarImage {
        try describedEdit(image, instruction).image
    }

    /// `edit`, and what a model with described edits said the result would be (nil for a model without them): the
    /// text it wrote before drawing, written once.
    public func describedEdit(_ image: PlanarImage, _ instruction: String) throws
        -> (image: PlanarImage, said: String?)
    {
        try check(image)
        let ids = text.encode(instruction)
        guard !ids.isEmpty else { throw MultimodalError.invalidExample(detail: "the instruction is empty") }
        let prompt = [text.imageToken] + ids, source = image.tensor()
        let said = try model.describeEdit(prompt: prompt, images: [source])
        let out = try model.generateImage(
            prompt: prompt, images: [source], imageSize: (imageSize, imageSize),
            steps: steps, guidance: guidance, sampler: sampler, seed: seed,
            keeping: keeping, description: said)
        return (
            try ImageBatch.images(fromSigned: out)[0],
            model.config.describeEdits ? text.decode(said).trimmingCharacters(in: .whitespaces) : nil
        )
    }

    /// The decoder's ceiling for an edit: the `target` image's own encoder conditions drawn as `edit` draws the
    /// LLM's (the `source` latent, and kept where the conditions leave the source's alone). An edit that fails here
    /// fails for the decoder, whatever the LLM predicts.
    public func editOracle(_ source: PlanarImage, _ target: PlanarImage) throws -> PlanarImage {
        try check(source)
        try check(target)
        let conditions = try model.targetConditions(images: try target.tensor().unsqueeze(0))
        let out = try model.draw(
            conditions: conditions, source: source.tensor(),
            imageSize: (imageSize, imageSize), steps: steps, guidance: guidance,
            sampler: sampler, seed: seed, keeping: keeping)
        return try ImageBatch.images(fromSigned: out)[0]
    }

    /// Interleaved output: the model's text and the images it draws where it writes `<img>`, in order.
    public func interleaved(_ prompt: String, maxImages: Int = 4) throws -> [(text: String?, image: PlanarImage?)] {
        let ids = text.encode(prompt)
        guard !ids.isEmpty else { throw MultimodalError.invalidExample(detail: "the prompt is empty") }
        let pieces = try model.generateInterleaved(
            prompt: ids, stopToken: text.endToken, maxImages: maxImages,
            imageSize: (imageSize, imageSize), steps: steps,
            guidance: guidance, sampler: sampler, seed: seed)
        return try pieces.map { piece in
            switch piece {
            case let .tokens(t):
                return (text.decode(t), nil)
            case let .image(x):
                return (nil, try ImageBatch.images(fromSigned: x)[0])
            }
        }
    }

    /// Encode → decode: the encoder's conditions of the image, drawn by the decoder.
    public func reconstruct(_ image: PlanarImage) throws -> PlanarImage {
        try check(image)
        let decoder = try self.decoder()
        let pixels = try image.tensor().unsqueeze(0)
        let c = try model.targetConditions(images: pixels)
        let out = try decoder.decode(
            conditions: c, imageSize: (imageSize, imageSize), steps: steps,
            guidance: guidance, sampler: sampler, seed: seed)
        return try ImageBatch.images(fromSigned: out)[0]
    }

    /// Encode → decode through the autoencoder alone (no encoder conditions, no denoiser): what any drawing of the
    /// decoder can at best look like.
    public func autoencode(_ image: PlanarImage) throws -> PlanarImage {
        try check(image)
        let decoder = try self.decoder()
        let latents = try decoder.latents(images: image.tensor().unsqueeze(0))
        return try ImageBatch.images(fromSigned: withNoGrad { try decoder.vae.decodeLatents(latents) })[0]
    }

    private func decoder() throws -> LatentDiffusionDecoder {
        guard let decoder = model.decoder else {
            throw MultimodalError.invalidConfiguration(key: "decoder", detail: "the model has no decoder")
        }
        return decoder
    }
}
