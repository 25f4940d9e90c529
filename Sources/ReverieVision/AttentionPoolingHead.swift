// port of transformers/models/siglip/modeling_siglip.py (SiglipMultiheadAttentionPoolingHead) and
// torch.nn.MultiheadAttention (packed in_proj) as that head uses it
import ReverieCore
import ReverieNN

/// `torch.nn.MultiheadAttention` (batch first, biases on): one packed input projection. Keys: `in_proj_weight`
/// [3D, D] (query, key, value rows in that order), `in_proj_bias` [3D], `out_proj.weight` [D, D], `out_proj.bias`.
public final class PackedMultiheadAttention: Module {
    public let dim: Int
    public let heads: Int
    public let inProjWeight: Tensor
    public let inProjBias: Tensor
    public let outProj: Linear

    public init(dim: Int, heads: Int, rng: inout RNG) throws {
        guard dim % heads == 0 else {
            throw ModuleError.invalidConfiguration(
                module: "PackedMultiheadAttention", detail: "heads \(heads) do not divide dim \(dim)")
        }
        (self.dim, self.heads) = (dim, heads)
        inProjWeight = Tensor(zeros: [3 * dim, dim], requiresGrad: true)
        Init.normal(inProjWeight, std: (1 / Float(dim)).squareRoot(), rng: &rng)
        inProjBias = Tensor(zeros: [3 * dim], requiresGrad: true)
        outProj = try Linear(inFeatures: dim, outFeatures: dim, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("in_proj_weight", inProjWeight)
        v.parameter("in_proj_bias", inProjBias)
        v.child("out_proj", outProj)
    }

    /// query [B, Q, D], keyValue [B, S, D] → [B, Q, D]
    public func callAsFunction(query: Tensor, keyValue: Tensor) throws -> Tensor {
        let (b, q, s, dh) = (query.shape[0], query.shape[1], keyValue.shape[1], dim / heads)
        func project(_ x: Tensor, _ part: Int, _ t: Int) throws -> Tensor {
            let w = try inProjWeight.slice(axis: 0, start: part * dim, end: (part + 1) * dim)  // [D, D]
            let bias = try inProjBias.slice(axis: 0, start: part * dim, end: (part + 1) * dim)  // [D]
            return try linear(x, weight: w, bias: bias).reshape([b, t, heads, dh]).permute([0, 2, 1, 3])
        }
        let o = try scaledDotProductAttention(
            project(query, 0, q), project(keyValue, 1, s), project(keyValue, 2, s))  // [B, H, Q, Dh]
        return try outProj(o.permute([0, 2, 1, 3]).reshape([b, q, dim]))  // [B, Q, D]
    }
}

/// SigLIP's pooling head: a learned probe attends over the patch features, then a residual MLP.
/// Keys: `probe` [1, 1, D], `attention.*` (packed, see `PackedMultiheadAttention`), `layernorm.*`, `mlp.fc1.*`,
/// `mlp.fc2.*`.
public final class AttentionPoolingHead: Module {
    public let probe: Tensor
    public let attention: PackedMultiheadAttention
    public let layernorm: LayerNorm
    public let mlp: MLP

    public init(config: VisionEncoderConfig, rng: inout RNG) throws {
        probe = Tensor(zeros: [1, 1, config.hiddenSize], requiresGrad: true)
        Init.normal(probe, std: 1, rng: &rng)
        attention = try PackedMultiheadAttention(dim: config.hiddenSize, heads: config.numAttentionHeads, rng: &rng)
        layernorm = try LayerNorm(dim: config.hiddenSize, eps: config.layerNormEps)
        mlp = try MLP(dim: config.hiddenSize, hidden: config.intermediateSize, activation: config.hiddenAct, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("probe", probe)
        v.child("attention", attention)
        v.child("layernorm", layernorm)
        v.child("mlp", mlp)
    }

    /// x [B, P, D] → [B, D]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let (b, d) = (x.shape[0], x.shape[2])
        let query = try probe * Tensor(repeating: 1, shape: [b, 1, d])  // [B, 1, D], differentiable in probe
        let h = try attention(query: query, keyValue: x)  // [B, 1, D]
        let out = try h + mlp(layernorm(h))  // [B, 1, D]
        return try out.reshape([b, d])
    }
}
