// port of transformers/models/blip_2/modeling_blip_2.py (Blip2Model: query_tokens → qformer → language_projection)
import ReverieCore
import ReverieNN

/// BLIP-2's bridge: learned query tokens read the image through a Q-Former, then a Linear maps them to the language
/// model's width; Q = queries. Options: `queries` (32), `depth` (Q-Former layers, 2), `width` (768 → default the
/// output width), `heads` (4), `cross_every` (2), `ffn` (4 × width).
/// Keys as HF `Blip2Model`: `query_tokens` [1, Q, W], `qformer.…`, `language_projection.*`.
public final class QFormerProjector: Module, Projector {
    public static let kind = "qformer"
    public let queryTokens: Tensor
    public let qformer: QFormer
    public let languageProjection: Linear
    public var outputDim: Int { languageProjection.outFeatures }

    public init(config: QFormerConfig, queries: Int, outputDim: Int, rng: inout RNG) throws {
        queryTokens = Tensor.randn([1, queries, config.hiddenSize], std: 0.02, rng: &rng, requiresGrad: true)
        qformer = try QFormer(config: config, rng: &rng)
        languageProjection = try Linear(inFeatures: config.hiddenSize, outFeatures: outputDim, rng: &rng)
    }

    public convenience init(spec: ProjectorSpec, rng: inout RNG) throws {
        var options = spec.reader()
        let queries = try options.int("queries", default: 32)
        let width = try options.int("width", default: spec.outputDim)
        let config = QFormerConfig(
            hiddenSize: width, intermediateSize: try options.int("ffn", default: 4 * width),
            numHiddenLayers: try options.int("depth", default: 2),
            numAttentionHeads: try options.int("heads", default: 4),
            crossAttentionFrequency: try options.int("cross_every", default: 2), encoderHiddenSize: spec.inputDim,
            layerNormEps: 1e-12, hiddenAct: .gelu)
        try options.finish()
        try self.init(config: config, queries: queries, outputDim: spec.outputDim, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("query_tokens", queryTokens)
        v.child("qformer", qformer)
        v.child("language_projection", languageProjection)
    }

    public func outputTokens(patches: Int) -> Int { queryTokens.shape[1] }

    /// The Q-Former's output before the projection, [B, Q, W] (HF `qformer(...).last_hidden_state`).
    public func queryFeatures(_ features: Tensor) throws -> Tensor {
        let b = features.shape[0], (q, w) = (queryTokens.shape[1], queryTokens.shape[2])
        let queries = try queryTokens * Tensor(repeating: 1, shape: [b, q, w])  // [B, Q, W]
        return try qformer(queries: queries, image: features)
    }

    /// features [B, P, Dv] → [B, Q, D]
    public func callAsFunction(_ features: Tensor) throws -> Tensor {
        try languageProjection(queryFeatures(features))
    }
}
