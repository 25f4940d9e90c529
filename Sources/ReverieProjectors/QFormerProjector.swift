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

    public struct Options: ProjectorOptions, Equatable {
        public var queries = 32, depth = 2, heads = 4, crossEvery = 2
        /// The Q-Former's width (nil: the output width) and its feed-forward width (nil: 4 × width).
        public var width: Int?, ffn: Int?

        enum CodingKeys: String, CodingKey {
            case queries, depth, heads
            case crossEvery = "cross_every"
            case width, ffn
        }

        public init() {}
        public init(
            queries: Int = 32, depth: Int = 2, heads: Int = 4, crossEvery: Int = 2, width: Int? = nil,
            ffn: Int? = nil
        ) {
            (self.queries, self.depth, self.heads, self.crossEvery) = (queries, depth, heads, crossEvery)
            (self.width, self.ffn) = (width, ffn)
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            try c.update(&queries, .queries)
            try c.update(&depth, .depth)
            try c.update(&heads, .heads)
            try c.update(&crossEvery, .crossEvery)
            width = try c.decodeIfPresent(Int.self, forKey: .width)
            ffn = try c.decodeIfPresent(Int.self, forKey: .ffn)
        }

        public func validate() throws {
            try require(queries, in: 1...(1 << 16), "queries")
            try require(depth, in: 1...256, "depth")
            try require(heads, in: 1...1024, "heads")
            try require(crossEvery, in: 1...256, "cross_every")
            if let width { try require(width, in: 1...(1 << 16), "width") }
            if let ffn { try require(ffn, in: 1...(1 << 18), "ffn") }
        }

        public func validate(dimensions: ProjectorDimensions) throws {
            let w = width ?? dimensions.outputDim
            try require(w % heads == 0, "heads", "\(heads) must divide width \(w)")
        }
    }

    public convenience init(options: Options, dimensions: ProjectorDimensions, rng: inout RNG) throws {
        try options.validate(dimensions: dimensions)
        let width = options.width ?? dimensions.outputDim
        let config = QFormerConfig(
            hiddenSize: width, intermediateSize: options.ffn ?? 4 * width, numHiddenLayers: options.depth,
            numAttentionHeads: options.heads, crossAttentionFrequency: options.crossEvery,
            encoderHiddenSize: dimensions.inputDim, layerNormEps: 1e-12, hiddenAct: .gelu)
        try self.init(config: config, queries: options.queries, outputDim: dimensions.outputDim, rng: &rng)
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
