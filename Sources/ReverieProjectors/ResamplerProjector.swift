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

    public init(spec: ProjectorSpec, rng: inout RNG) throws {
        var options = spec.reader()
        let queries = try options.int("queries", default: 16)
        let depth = try options.int("depth", default: 2)
        let heads = try options.int("heads", default: 4)
        let width = try options.int("width", default: spec.outputDim)
        try options.finish()
        guard width % heads == 0 else {
            throw ProjectorError.invalidOption(
                type: Self.kind, key: "heads", detail: "\(heads) must divide width \(width)")
        }
        latents = Tensor.randn([queries, width], std: 0.02, rng: &rng, requiresGrad: true)
        inputProj = try Linear(inFeatures: spec.inputDim, outFeatures: width, rng: &rng)
        layers = try (0..<depth).map { _ in try Block(width: width, heads: heads, rng: &rng) }
        norm = try LayerNorm(dim: width)
        outputProj = try Linear(inFeatures: width, outFeatures: spec.outputDim, rng: &rng)
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
