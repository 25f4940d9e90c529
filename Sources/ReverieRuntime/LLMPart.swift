import Foundation
import ReverieCore
import ReverieData
import ReverieLanguage
import ReverieMultimodal

/// The Llama-style language model and its tokenizer: `bytes` (one id per UTF-8 byte, vocabulary 260) or `bpe`, a
/// byte-level BPE tokenizer whose tokenizer.json text travels with the model (a checkpoint's `tokenizer`
/// attribute). A recipe names a tokenizer.json file instead of `bpe`; the recipe reader loads it.
public struct LLMPart: Codable, Sendable, Equatable, SelfChecking, TransformerShaped {
    public var hidden = 128, intermediate = 256, layers = 2, heads = 4, kvHeads = 2, maxPositions = 512
    public var vocab = ByteTextEncoder().vocabularySize
    /// `bytes`, `bpe`, or (in a recipe, before loading) a tokenizer.json path.
    public var tokenizer = "bytes"
    /// The BPE tokenizer's JSON (not part of `model_config`: stored as the checkpoint's `tokenizer` attribute).
    public var tokenizerJSON: String?
    /// What else a Llama `config.json` sets that changes the maths (its names: `rope_theta`, `rope_scaling`,
    /// `rms_norm_eps`, `head_dim`, `tie_word_embeddings`, `attention_bias`, `mlp_bias`).
    public var ropeTheta: Float = 10_000
    public var ropeScaling = RopeScaling.none
    public var normEps: Float = 1e-6
    /// Per-head width; nil for hidden / heads.
    public var headDim: Int?
    public var tieEmbeddings = false
    public var attentionBias = false
    public var mlpBias = false
    /// LoRA adapters (the model's own weights then stay frozen), or nil.
    public var lora: LoRAOptions?

    enum CodingKeys: String, CodingKey {
        case hidden, intermediate, layers, heads
        case kvHeads = "kv_heads"
        case maxPositions = "max_positions"
        case vocab, tokenizer
        case ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling"
        case normEps = "rms_norm_eps"
        case headDim = "head_dim"
        case tieEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case lora
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try updateShape(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&kvHeads, .kvHeads)
        try c.update(&maxPositions, .maxPositions)
        try c.update(&vocab, .vocab)
        try c.update(&tokenizer, .tokenizer)
        try c.update(&ropeTheta, .ropeTheta)
        try c.update(&ropeScaling, .ropeScaling)
        if case let .dynamic(factor, _) = ropeScaling {
            ropeScaling = .dynamic(factor: factor, maxPositions: maxPositions)
        }
        try c.update(&normEps, .normEps)
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? headDim
        try c.update(&tieEmbeddings, .tieEmbeddings)
        try c.update(&attentionBias, .attentionBias)
        try c.update(&mlpBias, .mlpBias)
        lora = try c.decodeIfPresent(LoRAOptions.self, forKey: .lora)
        try lora?.validate()
    }

    /// The Llama configuration these options describe.
    public var llamaConfig: LlamaConfig {
        var c = LlamaConfig(
            vocabSize: vocab, hiddenSize: hidden, intermediateSize: intermediate, numHiddenLayers: layers,
            numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim: headDim, rmsNormEps: normEps,
            ropeTheta: ropeTheta, tieWordEmbeddings: tieEmbeddings, maxPositionEmbeddings: maxPositions,
            attentionBias: attentionBias, mlpBias: mlpBias)
        c.ropeScaling = ropeScaling
        return c
    }

    public func validate() throws {
        try validateShape()
        try require(kvHeads, in: 1...heads, "kv_heads")
        try require(heads % kvHeads == 0, "kv_heads", "\(kvHeads) does not divide heads \(heads)")
        if let headDim {
            try require(headDim, in: 2...4096, "head_dim")
            try require(headDim % 2 == 0, "head_dim", "\(headDim) must be even for RoPE")
        } else {
            try require((hidden / heads) % 2 == 0, "heads", "head width must be even for RoPE")
        }
        try require(ropeTheta > 0 && ropeTheta.isFinite, "rope_theta", "must be positive, is \(ropeTheta)")
        try require(normEps > 0 && normEps < 1, "rms_norm_eps", "must be in (0, 1), is \(normEps)")
        try require(maxPositions, in: 1...(1 << 20), "max_positions")
        try require(vocab, in: 1...(1 << 22), "vocab")
        let bytes = ByteTextEncoder().vocabularySize
        try require(
            tokenizer != "bytes" || vocab >= bytes, "vocab", "\(vocab) is below the byte tokenizer's \(bytes) ids")
    }

    /// The text encoder this model reads and writes with.
    public func textEncoder() throws -> any TextEncoder {
        guard tokenizer == "bpe" else { return ByteTextEncoder() }
        guard let json = tokenizerJSON else {
            throw MultimodalError.invalidConfiguration(key: "llm.tokenizer", detail: "bpe, but no tokenizer.json text")
        }
        return try TokenizerTextEncoder(try Tokenizer(json: Data(json.utf8), path: "tokenizer"))
    }

    /// Reads the tokenizer.json file `tokenizer` names (unless it is `bytes` or `bpe`): sets `bpe`, the file's
    /// text, and the vocabulary (at least the tokenizer's ids; a larger `vocab` stays).
    ///
    /// - Throws: `ConfigurationError` at `tokenizer` or `vocab`.
    public mutating func loadTokenizerFile(relativeTo base: URL?, explicitVocab: Bool) throws {
        guard tokenizer != "bytes", tokenizer != "bpe" else { return }
        let path = tokenizer
        let url =
            path.hasPrefix("/") || base == nil
            ? URL(fileURLWithPath: path)
            : base!.appendingPathComponent(path)
        let encoder: TokenizerTextEncoder
        let data: Data
        do {
            data = try Data(contentsOf: url)
            encoder = try TokenizerTextEncoder(try Tokenizer(json: data, path: url.path))
        } catch {
            throw ConfigurationError(key: "tokenizer", "'bytes' or a tokenizer.json file: \(error)")
        }
        (tokenizer, tokenizerJSON) = ("bpe", String(decoding: data, as: UTF8.self))
        if !explicitVocab { vocab = encoder.vocabularySize }
        try require(
            vocab >= encoder.vocabularySize, "vocab",
            "\(vocab) is below the tokenizer's \(encoder.vocabularySize) ids")
    }
}
