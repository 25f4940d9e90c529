// port of diffusers `Transformer2DModel` (models/transformers/transformer_2d.py), continuous input
import ReverieCore
import ReverieNN

/// A feature map as H·W tokens through transformer blocks that cross-attend to condition tokens.
/// Keys: `norm` (GroupNorm, eps 1e-6), `proj_in`, `transformer_blocks.i`, `proj_out` — the projections 1×1 convs,
/// or linear layers over the tokens with `use_linear_projection` (SD 2.x, SDXL).
public final class Transformer2DModel: Module {
    public let channels: Int
    public let norm: GroupNorm
    public let projIn: TokenProjection
    public let transformerBlocks: [BasicTransformerBlock]
    public let projOut: TokenProjection

    public init(
        channels: Int, heads: Int, crossAttentionDim: Int, groups: Int, layers: Int = 1,
        linearProjection: Bool = false, rng: inout RNG
    ) throws {
        guard heads > 0, channels % heads == 0 else {
            throw DiffusionError.invalidConfiguration(
                component: "Transformer2DModel", detail: "channels \(channels) not divisible by heads \(heads)")
        }
        self.channels = channels
        norm = try GroupNorm(groups: groups, channels: channels, eps: 1e-6)
        func projection(_ rng: inout RNG) throws -> TokenProjection {
            linearProjection
                ? .linear(try Linear(inFeatures: channels, outFeatures: channels, rng: &rng))
                : .conv(try Conv2d(inChannels: channels, outChannels: channels, kernelSize: 1, rng: &rng))
        }
        projIn = try projection(&rng)
        transformerBlocks = try (0..<layers).map { _ in
            try BasicTransformerBlock(
                dim: channels, heads: heads, headDim: channels / heads,
                crossAttentionDim: crossAttentionDim, rng: &rng)
        }
        projOut = try projection(&rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("norm", norm)
        v.child("proj_in", projIn.module)
        v.children("transformer_blocks", transformerBlocks)
        v.child("proj_out", projOut.module)
    }

    /// x [B, C, H, W], context [B, S, D] → [B, C, H, W]
    public func callAsFunction(_ x: Tensor, context: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == channels else {
            throw TensorError.shapeMismatch(
                op: "Transformer2DModel", detail: "input \(shapeString(x.shape)), expected [B, \(channels), H, W]")
        }
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        func tokens(_ map: Tensor) throws -> Tensor { try map.reshape([b, c, h * w]).permute([0, 2, 1]) }  // [B, HW, C]
        func map(_ tokens: Tensor) throws -> Tensor { try tokens.permute([0, 2, 1]).reshape([b, c, h, w]) }
        var t: Tensor
        switch projIn {
        case let .linear(p): t = try p(tokens(norm(x)))
        case let .conv(p): t = try tokens(p(norm(x)))
        }
        for block in transformerBlocks { t = try block(t, context: context) }
        switch projOut {
        case let .linear(p): return try map(p(t)) + x
        case let .conv(p): return try p(map(t)) + x
        }
    }
}

/// A transformer's way in and out of token space: a 1×1 convolution on the map, or a linear layer on the tokens
/// (the same maths; the weights are [C, C, 1, 1] or [C, C]).
public enum TokenProjection {
    case conv(Conv2d)
    case linear(Linear)

    var module: Module {
        switch self {
        case let .conv(c): return c
        case let .linear(l): return l
        }
    }
}
