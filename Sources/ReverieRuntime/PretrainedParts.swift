import Foundation
import ReverieCore
import ReverieData
import ReverieIO
import ReverieLanguage

/// How a part starts from a Hugging Face / diffusers directory (`init: hf:DIR` in a recipe): its configuration read
/// from the directory's `config.json` (and tokenizer), its weights converted on the fly into the part's keys.
public struct PretrainedImporter: Sendable {
    /// The part's configuration, in a `ModelParts` that holds only that part.
    public let configuration: @Sendable (URL) throws -> ModelParts
    /// The part's tensors under its key prefixes, for the configuration `configuration` gave.
    public let weights: @Sendable (URL, ModelParts) throws -> [String: Tensor]

    public init(
        configuration: @escaping @Sendable (URL) throws -> ModelParts,
        weights: @escaping @Sendable (URL, ModelParts) throws -> [String: Tensor]
    ) {
        (self.configuration, self.weights) = (configuration, weights)
    }
}

/// The parts that can start from a pretrained directory, by part name (`llm` today; the vision encoder, the
/// autoencoder and the UNet have converters but no mapping onto their recipe options yet).
public enum PretrainedParts {
    public static let registry = Registry<PretrainedImporter>(
        family: "pretrained part", [PartName.llm.rawValue: llama])

    /// A Llama (`LlamaForCausalLM`): every maths-changing config key into the `llm` options; the directory's
    /// tokenizer.json (any layout `Tokenizer` reads) with Reverie's special tokens added, the embedding and the
    /// head grown by as many rows, each new row the mean of the pretrained rows (transformers'
    /// `resize_token_embeddings` samples around that mean with a 1e-9-scaled covariance).
    public static let llama = PretrainedImporter(
        configuration: { directory in
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
