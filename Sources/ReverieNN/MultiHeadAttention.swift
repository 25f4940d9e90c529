import ReverieCore

/// The names of the four projections of an attention block, so one implementation carries the key layouts of
/// several Hugging Face families without a rename table.
public struct AttentionProjectionNames: Sendable, Equatable {
    public var query: String
    public var key: String
    public var value: String
    public var output: String

    public init(query: String, key: String, value: String, output: String) {
        (self.query, self.key, self.value, self.output) = (query, key, value, output)
    }

    /// transformers Llama: `q_proj`, `k_proj`, `v_proj`, `o_proj`.
    public static let llama = Self(query: "q_proj", key: "k_proj", value: "v_proj", output: "o_proj")
    /// transformers CLIP and SigLIP: `q_proj`, `k_proj`, `v_proj`, `out_proj`.
    public static let clip = Self(query: "q_proj", key: "k_proj", value: "v_proj", output: "out_proj")
    /// diffusers `Attention`: `to_q`, `to_k`, `to_v`, `to_out.0`.
    public static let diffusers = Self(query: "to_q", key: "to_k", value: "to_v", output: "to_out.0")
}

/// Multi-head attention: self- or cross-attention, optionally causal, with grouped-query key/value heads, key
/// padding masks, rotary position embedding and an inference key/value cache.
///
/// Keys (with the default `.llama` names): `q_proj.weight` [heads·headDim, dim], `k_proj.weight`
/// [kvHeads·headDim, contextDim], `v_proj.weight` [kvHeads·headDim, contextDim], `o_proj.weight`
/// [dim, heads·headDim], plus biases when enabled. Heads are split by reshaping [B, T, H·Dh] to [B, T, H, Dh]
/// and permuting to [B, H, T, Dh], the layout of transformers' `view(...).transpose(1, 2)`.
public final class MultiHeadAttention: Module {
    public let dim: Int
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    /// Feature size of the key/value source: `dim` for self-attention, the context's for cross-attention.
    public let contextDim: Int
    public let causal: Bool
    /// Score scale; nil means 1/√headDim.
    public let scale: Float?
    public let rope: RotaryEmbedding?
    public let names: AttentionProjectionNames
    public let qProj: Linear
    public let kProj: Linear
    public let vProj: Linear
    public let oProj: Linear

    /// - Parameters:
    ///   - dim: the model width of queries and of the output.
    ///   - heads: query heads.
    ///   - kvHeads: key/value heads (grouped-query attention); defaults to `heads`, must divide it.
    ///   - headDim: defaults to `dim / heads` (which must then divide evenly).
    ///   - contextDim: feature size of the context for cross-attention; defaults to `dim`.
    ///   - bias: biases on the query, key and value projections.
    ///   - outputBias: a bias on the output projection (default: as `bias`).
    ///   - causal: position i attends only to keys ≤ i (aligned bottom-right when keys outnumber queries).
    ///   - rope: rotary embedding applied to queries and keys (its `dim` must equal `headDim`).
    ///   - scale: the attention logits' scale (default 1/√headDim).
    ///   - names: the projections' parameter names (Llama, CLIP/SigLIP or diffusers layouts).
    ///   - rng: draws the initial weights.
    public init(
        dim: Int, heads: Int, kvHeads: Int? = nil, headDim: Int? = nil, contextDim: Int? = nil,
        bias: Bool = false, outputBias: Bool? = nil, causal: Bool = false, rope: RotaryEmbedding? = nil,
        scale: Float? = nil, names: AttentionProjectionNames = .llama, rng: inout RNG
    ) throws {
        let kvHeads = kvHeads ?? heads, contextDim = contextDim ?? dim
        try requirePositive(
            "MultiHeadAttention",
            [
                "dim": dim, "heads": heads, "kvHeads": kvHeads,
                "contextDim": contextDim,
            ])
        func invalid(_ detail: String) -> ModuleError {
            .invalidConfiguration(module: "MultiHeadAttention", detail: detail)
        }
        guard heads % kvHeads == 0 else { throw invalid("heads \(heads) is not a multiple of kvHeads \(kvHeads)") }
        guard headDim != nil || dim % heads == 0 else {
            throw invalid("dim \(dim) is not divisible by heads \(heads); pass headDim explicitly")
        }
        let headDim = headDim ?? dim / heads
        try requirePositive("MultiHeadAttention", ["headDim": headDim])
        if let rope, rope.dim != headDim { throw invalid("rotary dim \(rope.dim) differs from headDim \(headDim)") }
        (self.dim, self.heads, self.kvHeads, self.headDim, self.contextDim) = (dim, heads, kvHeads, headDim, contextDim)
        (self.causal, self.scale, self.rope, self.names) = (causal, scale, rope, names)
        qProj = try Linear(inFeatures: dim, outFeatures: heads * headDim, bias: bias, rng: &rng)
        kProj = try Linear(inFeatures: contextDim, outFeatures: kvHeads * headDim, bias: bias, rng: &rng)
        vProj = try Linear(inFeatures: contextDim, outFeatures: kvHeads * headDim, bias: bias, rng: &rng)
        oProj = try Linear(inFeatures: heads * headDim, outFeatures: dim, bias: outputBias ?? bias, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child(names.query, qProj)
        v.child(names.key, kProj)
        v.child(names.value, vProj)
        v.child(names.output, oProj)
    }

    /// x [B, T, dim], context [B, S, contextDim] or nil (self-attention, S = T) → [B, T, dim].
    ///
    /// - keyPaddingMask: [B, S] (or [B, cached + T] with a cache), non-zero for real keys.
    /// - positions: the T positions rotary embedding uses for the queries (and, in self-attention, the keys);
    ///   default `start..<start + T` where `start` is the cache length (0 without a cache). Context keys use
    ///   0..<S.
    /// - cache: self-attention only; this step's keys and values are appended and attention covers all of them.
    public func callAsFunction(
        _ x: Tensor, context: Tensor? = nil, keyPaddingMask: Tensor? = nil,
        positions: [Int]? = nil, cache: KeyValueCache? = nil
    ) throws -> Tensor {
        let op = "MultiHeadAttention"
        guard x.rank == 3, x.shape[2] == dim else {
            throw TensorError.shapeMismatch(op: op, detail: "input \(shapeString(x.shape)), expected [B, T, \(dim)]")
        }
        let (b, t) = (x.shape[0], x.shape[1])
        if let context {
            guard context.rank == 3, context.shape[0] == b, context.shape[2] == contextDim else {
                throw TensorError.shapeMismatch(
                    op: op, detail: "context \(shapeString(context.shape)), expected [\(b), S, \(contextDim)]")
            }
            guard cache == nil else {
                throw TensorError.invalidArgument(op: op, detail: "a key/value cache is for self-attention only")
            }
        }
        let source = context ?? x
        let s = source.shape[1]
        var q = try splitHeads(qProj(x), b, t, heads)  // [B, H, T, Dh]
        var k = try splitHeads(kProj(source), b, s, kvHeads)  // [B, Hkv, S, Dh]
        var v = try splitHeads(vProj(source), b, s, kvHeads)  // [B, Hkv, S, Dh]
        if let rope {
            let start = cache?.length ?? 0
            let queryPositions = positions ?? Array(start..<(start + t))
            q = try rope(q, positions: queryPositions)
            k = try rope(k, positions: context == nil ? queryPositions : Array(0..<s))
        }
        if let cache { (k, v) = try cache.append(keys: k, values: v) }
        let o = try scaledDotProductAttention(
            q, k, v, causal: causal, keyPaddingMask: keyPaddingMask,
            scale: scale)  // [B, H, T, Dh]
        return try oProj(o.permute([0, 2, 1, 3]).reshape([b, t, heads * headDim]))  // [B, T, dim]
    }

    /// [B, T, n·Dh] → [B, n, T, Dh]
    private func splitHeads(_ x: Tensor, _ b: Int, _ t: Int, _ n: Int) throws -> Tensor {
        try x.reshape([b, t, n, headDim]).permute([0, 2, 1, 3])
    }
}

/// Keys and values of earlier steps of one attention layer, for incremental decoding. Inference only: stored
/// tensors carry no autodiff history.
public final class KeyValueCache {
    /// [B, Hkv, L, Dh], nil before the first step.
    public private(set) var keys: Tensor?
    /// [B, Hkv, L, Dh], nil before the first step.
    public private(set) var values: Tensor?

    public init() {}

    /// Number of cached time steps L.
    public var length: Int { keys?.shape[2] ?? 0 }

    /// Forgets every step.
    public func reset() { (keys, values) = (nil, nil) }

    /// Appends this step's keys and values ([B, Hkv, T, Dh]) and returns all of them ([B, Hkv, L + T, Dh]).
    public func append(keys k: Tensor, values v: Tensor) throws -> (Tensor, Tensor) {
        guard let keys, let values else {
            (self.keys, self.values) = (k.detached(), v.detached())
            return (k, v)
        }
        let allK = try concat([keys, k], axis: 2), allV = try concat([values, v], axis: 2)
        (self.keys, self.values) = (allK.detached(), allV.detached())
        return (allK, allV)
    }
}
