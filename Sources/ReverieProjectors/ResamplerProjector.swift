// port of the Perceiver resampler of Flamingo (Alayrac et al. 2022, as in open_flamingo/src/helpers.py)
import ReverieCore
import ReverieNN

/// Perceiver resampler: `queries` learned latents attend over [features; latents], `depth` times, each followed by
/// a feed-forward block; Q = queries. Options: `queries` (default 16), `depth` (2), `heads` (4), `width` (inner
/// width, default the output width). Keys: `latents` [Q, W], `input_proj.*`, `layers.N.{norm_media, norm_latents,
/// attn.{q,k,v,out}_proj, ff_norm, ff.fc1, ff.fc2}`, `norm.*`, `output_proj.*`.
public final class ResamplerProjector: Module, Projector {
    public static let kind = "resampler"

    public final class Block: Module {
        let normMedia: LayerNorm, normLatents: LayerNorm, attn: MultiHeadAttention, ffNorm: LayerNorm, ff: MLP

        init(width: Int, heads: Int, rng: inout RNG) throws {
            normMedia = try LayerNorm(dim: width)
            normLatents = try LayerNorm(dim: width)
            attn = try MultiHeadAttention(dim: width, heads: heads, bias: false, names: .clip, rng: &rng)
            ffNorm = try LayerNorm(dim: width)
            ff = try MLP(dim: width, hidden: 4 * width, activation: .gelu, bias: false, rng: &rng)
        }

        override public func visit(_ v: inout ModuleVisitor) {
            v.child("norm_media", normMedia)
            v.child("norm_latents", normLatents)
            v.child("attn", attn)
            v.child("ff_norm", ffNorm)
            v.child("ff", ff)
        }

        /// latents [B, Q, W], media [B, P, W] → [B, Q, W]
        func callAsFunction(_ latents: Tensor, media: Tensor) throws -> Tensor {
            let l = try normLatents(latents)
            let context = try concat([normMedia(media), l], axis: 1)  // [B, P + Q, W]
            let h = try latents + attn(l, context: context)
            return try h + ff(ffNorm(h))
        }
    }

    public let latents: Tensor
    public let inputProj: Linear
    public let layers: [Block]
    public let norm: LayerNorm
    public let outputProj: Linear
    public var outputDim: Int { outputProj.outFeatures }

    public struct Options: ProjectorOptions, Equatable {
        public var queries = 16, depth = 2, heads = 4
        /// Inner width; nil: the output width.
        public var width: Int?

        public init() {}
        public init(queries: Int = 16, depth: Int = 2, heads: Int = 4, width: Int? = nil) {
            (self.queries, self.depth, self.heads, self.width) = (queries, depth, heads, width)
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            try c.update(&queries, .queries)
            try c.update(&depth, .depth)
            try c.update(&heads, .heads)
            width = try c.decodeIfPresent(Int.self, forKey: .width)
        }

        public func validate() throws {
            try require(queries, in: 1...(1 << 16), "queries")
            try require(depth, in: 1...256, "depth")
            try require(heads, in: 1...1024, "heads")
            if let width { try require(width, in: 1...(1 << 16), "width") }
        }

        public func validate(dimensions: ProjectorDimensions) throws {
            let w = width ?? dimensions.outputDim
            try require(w % heads == 0, "heads", "\(heads) must divide width \(w)")
        }
    }

    public init(options: Options, dimensions: ProjectorDimensions, rng: inout RNG) throws {
        try options.validate(dimensions: dimensions)
        let width = options.width ?? dimensions.outputDim
        latents = Tensor.randn([options.queries, width], std: 0.02, rng: &rng, requiresGrad: true)
        inputProj = try Linear(inFeatures: dimensions.inputDim, outFeatures: width, rng: &rng)
        layers = try (0..<options.depth).map { _ in try Block(width: width, heads: options.heads, rng: &rng) }
        norm = try LayerNorm(dim: width)
        outputProj = try Linear(inFeatures: width, outFeatures: dimensions.outputDim, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("latents", latents)
        v.child("input_proj", inputProj)
        v.children("layers", layers)
        v.child("norm", norm)
        v.child("output_proj", outputProj)
    }

    public func outputTokens(patches: Int) -> Int { latents.shape[0] }

    /// features [B, P, Dv] → [B, Q, D]
    public func callAsFunction(_ features: Tensor) throws -> Tensor {
        let b = features.shape[0], (q, w) = (latents.shape[0], latents.shape[1])
        let media = try inputProj(features)  // [B, P, W]
        var h = try latents * Tensor(repeating: 1, shape: [b, q, w])  // [B, Q, W], differentiable in latents
        for layer in layers { h = try layer(h, media: media) }
        return try outputProj(norm(h))  // [B, Q, D]
    }
}
