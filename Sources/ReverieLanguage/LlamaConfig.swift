// port of transformers/models/llama/configuration_llama.py (the fields LlamaForCausalLM reads)
import Foundation
import ReverieCore
import ReverieIO

/// The hyper-parameters of a Llama-style language model, named as in Hugging Face's `LlamaConfig` (the JSON keys of
/// `config.json` are the snake_case forms of these names).
public struct LlamaConfig: Codable, Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// Key/value heads for grouped-query attention; equal to `numAttentionHeads` for multi-head attention.
    public var numKeyValueHeads: Int
    /// Per-head width; `hiddenSize / numAttentionHeads` unless set.
    public var headDim: Int
    public var rmsNormEps: Float
    /// RoPE base frequency.
    public var ropeTheta: Float
    /// RoPE scaling (`rope_scaling` / `rope_parameters`: linear, dynamic, llama3).
    public var ropeScaling = RopeScaling.none
    /// When true, `lm_head` reuses `model.embed_tokens.weight` and has no key of its own.
    public var tieWordEmbeddings: Bool
    /// Positions whose rotary tables are precomputed (longer sequences still work).
    public var maxPositionEmbeddings: Int
    /// Biases on q/k/v/o projections (`attention_bias`).
    public var attentionBias: Bool
    /// Biases on the gate/up/down projections (`mlp_bias`).
    public var mlpBias: Bool

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling"
        case tieWordEmbeddings = "tie_word_embeddings"
        case maxPositionEmbeddings = "max_position_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
    }

    public init(
        vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
        numKeyValueHeads: Int? = nil, headDim: Int? = nil, rmsNormEps: Float = 1e-6,
        ropeTheta: Float = 10_000, tieWordEmbeddings: Bool = false, maxPositionEmbeddings: Int = 2048,
        attentionBias: Bool = false, mlpBias: Bool = false
    ) {
        (self.vocabSize, self.hiddenSize, self.intermediateSize) = (vocabSize, hiddenSize, intermediateSize)
        (self.numHiddenLayers, self.numAttentionHeads) = (numHiddenLayers, numAttentionHeads)
        self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
        self.headDim = headDim ?? hiddenSize / max(numAttentionHeads, 1)
        (self.rmsNormEps, self.ropeTheta, self.tieWordEmbeddings) = (rmsNormEps, ropeTheta, tieWordEmbeddings)
        (self.maxPositionEmbeddings, self.attentionBias, self.mlpBias) = (maxPositionEmbeddings, attentionBias, mlpBias)
    }

    /// Reads a Hugging Face `config.json` (LlamaConfig defaults for absent optional keys). Accepts `rope_theta` at
    /// the top level (transformers 4.x) or inside `rope_parameters` (5.x), and RoPE scaling of type `default`,
    /// `linear`, `dynamic` or `llama3`; any other type (`yarn`, `longrope`, …) is an error naming it, since
    /// silently ignoring it would give different outputs than transformers.
    public init(huggingFace config: HFConfigFile) throws {
        let modelType = try config.string("model_type", default: "llama")
        // Only Llama itself: Mistral (sliding window) and Qwen2 (q/k/v biases without an o bias) differ in ways
        // this model does not implement, so accepting them would give silently wrong outputs.
        guard modelType == "llama" else {
            throw config.invalid("model_type", "'\(modelType)' is not a Llama-architecture model")
        }
        let heads = try config.int("num_attention_heads", default: 32)
        let hidden = try config.int("hidden_size", default: 4096)
        var theta = try config.double("rope_theta", default: 10_000)
        let maxPositions = try config.int("max_position_embeddings", default: 2048)
        var scaling = RopeScaling.none
        let ropeKey = config.has("rope_parameters") ? "rope_parameters" : "rope_scaling"
        if let rope = try config.object(ropeKey) {
            theta = try rope.double("rope_theta", default: theta)
            let decoder = JSONDecoder()
            decoder.userInfo[RopeScaling.contextKey] = maxPositions
            do {
                scaling = try decoder.decode(RopeScaling.self, from: Data(rope.text.utf8))
            } catch let error as ConfigurationError {
                throw config.invalid("\(ropeKey).\(error.key)", error.message)
            } catch {
                throw config.invalid(ropeKey, "\(error)")
            }
        }
        let act = try config.string("hidden_act", default: "silu")
        guard act == "silu" else { throw config.invalid("hidden_act", "'\(act)' is not supported (only 'silu')") }
        self.init(
            vocabSize: try config.int("vocab_size", default: 32_000), hiddenSize: hidden,
            intermediateSize: try config.int("intermediate_size", default: 11_008),
            numHiddenLayers: try config.int("num_hidden_layers", default: 32), numAttentionHeads: heads,
            numKeyValueHeads: try config.int("num_key_value_heads", default: heads),
            headDim: try config.int("head_dim", default: hidden / max(heads, 1)),
            rmsNormEps: Float(try config.double("rms_norm_eps", default: 1e-6)), ropeTheta: Float(theta),
            tieWordEmbeddings: try config.bool("tie_word_embeddings", default: false),
            maxPositionEmbeddings: maxPositions,
            attentionBias: try config.bool("attention_bias", default: false),
            mlpBias: try config.bool("mlp_bias", default: false))
        ropeScaling = scaling
        try validate(file: config.url.path)
    }

    /// Checks sizes and divisibility; `file` is named in the error.
    public func validate(file: String = "LlamaConfig") throws {
        func bad(_ key: String, _ detail: String) -> SafetensorsError {
            .badConfig(path: file, key: key, detail: detail)
        }
        let positive: [(String, Int)] = [
            ("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
            ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
            ("num_key_value_heads", numKeyValueHeads), ("head_dim", headDim),
            ("max_position_embeddings", maxPositionEmbeddings),
        ]
        let b = ConfigBounds.self
        try b.check(
            [
                ("vocab_size", vocabSize, 1...b.maxVocabulary), ("hidden_size", hiddenSize, 1...b.maxWidth),
                ("intermediate_size", intermediateSize, 1...b.maxIntermediate),
                ("num_hidden_layers", numHiddenLayers, 1...b.maxLayers),
                ("num_attention_heads", numAttentionHeads, 1...max(1, hiddenSize)), ("head_dim", headDim, 1...4096),
                ("max_position_embeddings", maxPositionEmbeddings, 1...b.maxPositions),
            ], file: file)
        for (key, value) in positive where value <= 0 { throw bad(key, "must be positive, is \(value)") }
        let (h, v) = (Double(hiddenSize), Double(vocabSize))
        let perLayer = 4 * h * Double(numAttentionHeads * headDim) + 3 * h * Double(intermediateSize)
        try b.checkMemory(parameters: 2 * v * h + Double(numHiddenLayers) * perLayer, file: file)
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw bad(
                "num_key_value_heads",
                "\(numKeyValueHeads) does not divide num_attention_heads \(numAttentionHeads)")
        }
        guard headDim % 2 == 0 else { throw bad("head_dim", "rotary embedding needs an even head_dim, is \(headDim)") }
        guard rmsNormEps > 0, ropeTheta > 0 else { throw bad("rms_norm_eps", "eps and rope_theta must be positive") }
    }

    /// This configuration as `config.json`-style JSON (sorted keys, `model_type: llama`), for a checkpoint's
    /// `model_config` attribute. `LlamaConfig(huggingFace:)` reads it back.
    public func jsonText() throws -> String {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as? [String: Any] ?? [:]
        object["model_type"] = "llama"
        object["architectures"] = ["LlamaForCausalLM"]
        object["hidden_act"] = "silu"
        if ropeScaling == .none { object["rope_scaling"] = nil }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        return String(decoding: data, as: UTF8.self)
    }
}
