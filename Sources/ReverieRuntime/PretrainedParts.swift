import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieIO
import ReverieLanguage
import ReverieVision

/// How a part starts from a Hugging Face / diffusers directory (`init: hf:DIR` in a recipe): its configuration read
/// from the directory's `config.json` (and tokenizer), its weights converted on the fly into the part's keys.
public struct PretrainedImporter: Sendable {
    /// The part's configuration, in a `ModelParts` that holds only that part, from the directory and the options
    /// the recipe writes beside `init` (for options the directory has no counterpart for).
    public let configuration: @Sendable (URL, ModelParts) throws -> ModelParts
    /// The part's tensors under its key prefixes, for the configuration `configuration` gave (and the other
    /// parts of the model).
    public let weights: @Sendable (URL, ModelParts) throws -> [String: Tensor]
    /// Keys of the part a directory may lack by design: they keep their built values when it does.
    public let keepsBuilt: @Sendable (String) -> Bool

    public init(
        configuration: @escaping @Sendable (URL, ModelParts) throws -> ModelParts,
        weights: @escaping @Sendable (URL, ModelParts) throws -> [String: Tensor],
        keepsBuilt: @escaping @Sendable (String) -> Bool = { _ in false }
    ) {
        (self.configuration, self.weights, self.keepsBuilt) = (configuration, weights, keepsBuilt)
    }
}

/// The parts that can start from a pretrained directory, by part name: `llm` (LlamaForCausalLM), `vision`
/// (SigLIP's vision tower), `vae` (diffusers' AutoencoderKL) and `unet` (diffusers' UNet2DConditionModel).
public enum PretrainedParts {
    public static let registry = Registry<PretrainedImporter>(
        family: "pretrained part",
        [
            PartName.llm.rawValue: llama, PartName.vision.rawValue: siglip, PartName.vae.rawValue: autoencoder,
            PartName.unet.rawValue: unet,
        ])

    /// SigLIP's vision tower (`SiglipVisionModel`, or the vision half of a `SiglipModel`), without its pooling head
    /// (the model reads patch features).
    public static let siglip = PretrainedImporter(
        configuration: { directory, _ in
            let file = try HFConfigFile(url: directory)
            let config = try VisionEncoderConfig(huggingFace: file)
            guard config.numChannels == 3 else { throw file.invalid("num_channels", "\(config.numChannels), not 3") }
            var part = VisionPart()
            (part.hidden, part.intermediate, part.layers, part.heads) = (
                config.hiddenSize, config.intermediateSize, config.numHiddenLayers, config.numAttentionHeads
            )
            (part.imageSize, part.patch, part.normEps, part.activation) = (
                config.imageSize, config.patchSize, config.layerNormEps, config.hiddenAct
            )
            var parts = ModelParts()
            parts.vision = part
            return parts
        },
        weights: { directory, _ in
            let state = try VisionEncoder.convertHuggingFace(directory: directory).model
            return Dictionary(
                uniqueKeysWithValues: state.filter { !$0.key.hasPrefix("head.") }.map {
                    ("vision_encoder.\($0.key)", $0.value)
                })
        })

    /// diffusers' `AutoencoderKL` (RGB in and out, quant convs, `DownEncoderBlock2D` / `UpDecoderBlock2D`).
    public static let autoencoder = PretrainedImporter(
        configuration: { directory, _ in
            let file = try HFConfigFile(url: directory)
            let config = try AutoencoderKLConfig.decode(json: file.text, source: file.url.path)
            guard config.inChannels == 3, config.outChannels == 3 else {
                throw file.invalid("in_channels", "\(config.inChannels) in, \(config.outChannels) out: images are RGB")
            }
            guard config.useQuantConv, config.usePostQuantConv else {
                throw file.invalid("use_quant_conv", "false is not implemented by the vae part")
            }
            var part = VAEPart()
            (part.channels, part.layersPerBlock, part.latentChannels, part.normGroups) = (
                config.blockOutChannels, config.layersPerBlock, config.latentChannels, config.normNumGroups
            )
            (part.scalingFactor, part.attention, part.activation) = (
                Double(config.scalingFactor), config.midBlockAddAttention, config.actFn
            )
            var parts = ModelParts()
            parts.vae = part
            return parts
        },
        weights: { directory, _ in
            let state = try DiffusersImport.convert(directory: directory).model
            return Dictionary(uniqueKeysWithValues: state.map { ("decoder.vae.\($0.key)", $0.value) })
        })

    /// A Llama (`LlamaForCausalLM`): every maths-changing config key into the `llm` options; the directory's
    /// tokenizer.json (any layout `Tokenizer` reads) with Reverie's special tokens added, the embedding and the
    /// head grown by as many rows, each new row the mean of the pretrained rows (transformers'
    /// `resize_token_embeddings` samples around that mean with a 1e-9-scaled covariance).
    public static let llama = PretrainedImporter(
        configuration: { directory, _ in
            let file = try HFConfigFile(url: directory)
            let config = try LlamaConfig(huggingFace: file)
            var part = LLMPart()
            (part.hidden, part.intermediate, part.layers) = (
                config.hiddenSize, config.intermediateSize, config.numHiddenLayers
            )
            (part.heads, part.kvHeads, part.maxPositions) = (
                config.numAttentionHeads, config.numKeyValueHeads, config.maxPositionEmbeddings
            )
            (part.ropeTheta, part.ropeScaling, part.normEps) = (config.ropeTheta, config.ropeScaling, config.rmsNormEps)
            part.headDim = config.headDim == config.hiddenSize / config.numAttentionHeads ? nil : config.headDim
            (part.tieEmbeddings, part.attentionBias, part.mlpBias) = (
                config.tieWordEmbeddings, config.attentionBias, config.mlpBias
            )
            part.vocab = config.vocabSize
            let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
            if FileManager.default.fileExists(atPath: tokenizerURL.path) {
                let tokenizer = try Tokenizer(contentsOf: tokenizerURL).adding(
                    specialTokens: Tokenizer.reverieSpecialTokens)
                part.tokenizer = "bpe"
                part.tokenizerJSON = String(decoding: tokenizer.jsonData(), as: UTF8.self)
                part.vocab = max(config.vocabSize, tokenizer.vocabularySize)
            }
            var parts = ModelParts()
            parts.llm = part
            return parts
        },
        weights: { directory, parts in
            guard let part = parts.llm else { throw ConfigurationError(key: "llm", "no llm options") }
            var state = try LanguageModel.convertHuggingFace(directory: directory).model
            for key in ["model.embed_tokens.weight", "lm_head.weight"] {
                guard let rows = state[key] else { continue }
                state[key] = try grown(rows, to: part.vocab, name: "\(directory.path): \(key)")
            }
            return Dictionary(uniqueKeysWithValues: state.map { ("llm.\($0.key)", $0.value) })
        })

    /// `rows` [V, D] with rows appended up to `count`, each the mean of the existing rows.
    static func grown(_ rows: Tensor, to count: Int, name: String) throws -> Tensor {
        guard rows.rank == 2, count >= rows.shape[0] else {
            throw ConfigurationError(
                key: "vocab", "\(name) has \(rows.shape.first ?? 0) rows, more than the vocabulary \(count)")
        }
        let (v, d) = (rows.shape[0], rows.shape[1])
        guard count > v else { return rows }
        let mean = try rows.mean(axis: 0, keepDims: true)  // [1, D]
        let extra = try mean.broadcast(to: [count - v, d])
        return try concat([rows, extra], axis: 0)
    }
}
