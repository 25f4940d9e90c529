// port of transformers/models/llama/modeling_llama.py (LlamaModel, LlamaForCausalLM)
import ReverieCore
import ReverieNN

/// The decoder stack of a Llama model (Hugging Face `LlamaModel`): token embedding, `numHiddenLayers` decoder
/// layers, final RMSNorm. Keys: `embed_tokens.weight`, `layers.N.…`, `norm.weight`.
public final class LlamaModel: Module {
    public let embedTokens: Embedding
    public let layers: [LlamaDecoderLayer]
    public let norm: RMSNorm

    public init(config: LlamaConfig, rng: inout RNG) throws {
        try config.validate()
        embedTokens = try Embedding(count: config.vocabSize, dim: config.hiddenSize, std: 0.02, rng: &rng)
        let rope = try RotaryEmbedding(
            dim: config.headDim, theta: config.ropeTheta,
            cachedPositions: config.maxPositionEmbeddings, scaling: config.ropeScaling)
        var layers: [LlamaDecoderLayer] = []
        for _ in 0..<config.numHiddenLayers {
            layers.append(try LlamaDecoderLayer(config: config, rope: rope, rng: &rng))
        }
        self.layers = layers
        norm = try RMSNorm(dim: config.hiddenSize, eps: config.rmsNormEps)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("embed_tokens", embedTokens)
        v.children("layers", layers)
        v.child("norm", norm)
    }
}

/// What a forward pass of `LanguageModel` returns.
public struct LanguageModelOutput {
    /// [B, T, vocab] (or [B, 1, vocab] with `lastPositionOnly`).
    public var logits: Tensor
    /// The final hidden state after the last norm, [B, T, D] (HF `last_hidden_state`): what output heads read.
    public var lastHiddenState: Tensor
    /// With `outputHiddenStates`: the input embeddings and the output of each layer, the last one replaced by
    /// `lastHiddenState` — `numHiddenLayers + 1` tensors [B, T, D], as HF `output_hidden_states=True` returns.
    public var hiddenStates: [Tensor]?
}

/// The key/value caches of every layer of a `LanguageModel`, for incremental decoding.
public final class LanguageModelCache {
    public let layers: [KeyValueCache]

    public init(layers: Int) { self.layers = (0..<layers).map { _ in KeyValueCache() } }

    /// Number of cached positions.
    public var length: Int { layers.first?.length ?? 0 }

    /// Forgets every cached position.
    public func reset() { for layer in layers { layer.reset() } }
}

/// A Llama-architecture causal language model, equal to Hugging Face `LlamaForCausalLM` (RMSNorm, rotary
/// position embedding with configurable base, SwiGLU, grouped-query attention, optionally tied embeddings).
///
/// Keys are those of transformers: `model.embed_tokens.weight`, `model.layers.N.self_attn.q_proj.weight`, …,
/// `model.norm.weight`, and `lm_head.weight` unless `tieWordEmbeddings` (then the head reuses the embedding).
///
/// ```swift
/// let lm = try LanguageModel.load(huggingFaceDirectory: dir)
/// let out = try lm(ids: ids, shape: [1, ids.count])              // out.logits [1, T, vocab]
/// let tokens = try lm.generate(prompt: ids, maxNewTokens: 32, sampling: .greedy)
/// ```
public final class LanguageModel: Module {
    public let config: LlamaConfig
    public let model: LlamaModel
    /// nil when the head is tied to `model.embed_tokens`.
    public let lmHead: Linear?

    public init(config: LlamaConfig, rng: inout RNG) throws {
        self.config = config
        model = try LlamaModel(config: config, rng: &rng)
        lmHead =
            config.tieWordEmbeddings
            ? nil : try Linear(inFeatures: config.hiddenSize, outFeatures: config.vocabSize, bias: false, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("model", model)
        v.child("lm_head", lmHead)
    }

    /// A fresh cache for `callAsFunction(…, cache:)` and generation.
    public func makeCache() -> LanguageModelCache { LanguageModelCache(layers: config.numHiddenLayers) }

    /// Token embeddings: ids laid out as `shape` ([B, T]) → [B, T, D]. Use this to build sequences with other
    /// (for example visual) embeddings spliced in, then call `callAsFunction(inputEmbeddings:)`.
    public func embed(ids: [Int], shape: [Int]) throws -> Tensor {
        try model.embedTokens(ids, shape: shape)
    }

    /// Forward on token ids laid out as `shape` = [B, T]. See `callAsFunction(inputEmbeddings:…)`.
    public func callAsFunction(
        ids: [Int], shape: [Int], keyPaddingMask: Tensor? = nil, positions: [Int]? = nil,
        cache: LanguageModelCache? = nil, outputHiddenStates: Bool = false,
        lastPositionOnly: Bool = false
    ) throws -> LanguageModelOutput {
        guard shape.count == 2, shape[0] * shape[1] == ids.count else {
            throw TensorError.shapeMismatch(
                op: "LanguageModel", detail: "\(ids.count) ids cannot be laid out as \(shapeString(shape)) = [B, T]")
        }
        return try callAsFunction(
            inputEmbeddings: embed(ids: ids, shape: shape), keyPaddingMask: keyPaddingMask,
            positions: positions, cache: cache, outputHiddenStates: outputHiddenStates,
            lastPositionOnly: lastPositionOnly)
    }

    /// Forward on input embeddings [B, T, D] → logits [B, T, vocab] and hidden states.
    ///
    /// - keyPaddingMask: [B, cached + T], non-zero for real tokens (left padding for batched prompts).
    /// - positions: rotary positions of the T inputs; default continues the cache (0..<T without one).
    /// - cache: appended to; attention covers the cached positions and these.
    /// - lastPositionOnly: compute logits for the last position only ([B, 1, vocab]), as decoding needs.
    public func callAsFunction(
        inputEmbeddings x: Tensor, keyPaddingMask: Tensor? = nil, positions: [Int]? = nil,
        cache: LanguageModelCache? = nil, outputHiddenStates: Bool = false,
        lastPositionOnly: Bool = false
    ) throws -> LanguageModelOutput {
        var states: [Tensor]? = outputHiddenStates ? [] : nil
        let last = try runLayers(x, keyPaddingMask: keyPaddingMask, positions: positions, cache: cache, states: &states)
        let t = last.shape[1]
        let headInput = lastPositionOnly ? try last.slice(axis: 1, start: t - 1, end: t) : last  // [B, T|1, D]
        return LanguageModelOutput(logits: try head(headInput), lastHiddenState: last, hiddenStates: states)
    }

    /// The layers and the final norm without the head: input embeddings [B, T, D] → final hidden states [B, T, D]
    /// (`lastHiddenState`). For a loss that needs logits at a few positions only: pick those rows, then `head`.
    public func finalHiddenStates(
        inputEmbeddings x: Tensor, keyPaddingMask: Tensor? = nil,
        positions: [Int]? = nil
    ) throws -> Tensor {
        var states: [Tensor]?
        return try runLayers(x, keyPaddingMask: keyPaddingMask, positions: positions, cache: nil, states: &states)
    }

    /// Every layer, then the norm; appends the input and each layer's output to `states` when given (the last one
    /// normalised).
    private func runLayers(
        _ x: Tensor, keyPaddingMask: Tensor?, positions: [Int]?, cache: LanguageModelCache?,
        states: inout [Tensor]?
    ) throws -> Tensor {
        guard x.rank == 3, x.shape[2] == config.hiddenSize else {
            throw TensorError.shapeMismatch(
                op: "LanguageModel",
                detail: "input embeddings \(shapeString(x.shape)), expected [B, T, \(config.hiddenSize)]")
        }
        if let cache, cache.layers.count != model.layers.count {
            throw TensorError.invalidArgument(
                op: "LanguageModel", detail: "cache has \(cache.layers.count) layers, the model \(model.layers.count)")
        }
        var h = x  // [B, T, D]
        states?.append(x)
        for (i, layer) in model.layers.enumerated() {
            h = try layer(h, keyPaddingMask: keyPaddingMask, positions: positions, cache: cache?.layers[i])
            states?.append(h)
        }
        let last = try model.norm(h)  // [B, T, D]
        if states != nil { states![states!.count - 1] = last }
        return last
    }

    /// hidden [B, T, D] → logits [B, T, vocab], through `lm_head` or the tied embedding matrix.
    public func head(_ hidden: Tensor) throws -> Tensor {
        if let lmHead { return try lmHead(hidden) }
        return try linear(hidden, weight: model.embedTokens.weight, bias: nil)
    }
}
