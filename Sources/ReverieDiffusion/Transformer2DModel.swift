// port of diffusers `Transformer2DModel` (models/transformers/transformer_2d.py), continuous input,
// use_linear_projection=False, one transformer layer per block by default
import ReverieCore
import ReverieNN

/// A feature map as H·W tokens through transformer blocks that cross-attend to condition tokens.
/// Keys: `norm` (GroupNorm, eps 1e-6), `proj_in` (1×1 conv), `transformer_blocks.i`, `proj_out` (1×1 conv).
public final class Transformer2DModel: Module {
    public let channels: Int
    public let norm: GroupNorm
    public let projIn: Conv2d
    public let transformerBlocks: [BasicTransformerBlock]
    public let projOut: Conv2d

    public init(
        channels: Int, heads: Int, crossAttentionDim: Int, groups: Int, layers: Int = 1,
        rng: inout RNG
    ) throws {
        guard heads > 0, channels % heads == 0 else {
            throw DiffusionError.invalidConfiguration(
                component: "Transformer2DModel", detail: "channels \(channels) not divisible by heads \(heads)")
        }
        self.channels = channels
        norm = try GroupNorm(groups: groups, channels: channels, eps: 1e-6)
        projIn = try Conv2d(inChannels: channels, outChannels: channels, kernelSize: 1, rng: &rng)
        transformerBlocks = try (0..<layers).map { _ in
            try BasicTransformerBlock(
                dim: channels, heads: heads, headDim: channels / heads,
                crossAttentionDim: crossAttentionDim, rng: &rng)
        }
        projOut = try Conv2d(inChannels: channels, outChannels: channels, kernelSize: 1, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("norm", norm)
        v.child("proj_in", projIn)
        v.children("transformer_blocks", transformerBlocks)
        v.child("proj_out", projOut)
    }

    /// x [B, C, H, W], context [B, S, D] → [B, C, H, W]
    public func callAsFunction(_ x: Tensor, context: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == channels else {
            throw TensorError.shapeMismatch(
                op: "Transformer2DModel", detail: "input \(shapeString(x.shape)), expected [B, \(channels), H, W]")
        }
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var tokens = try projIn(norm(x)).reshape([b, c, h * w]).permute([0, 2, 1])  // [B, HW, C]
        for block in transformerBlocks { tokens = try block(tokens, context: context) }
        let map = try tokens.permute([0, 2, 1]).reshape([b, c, h, w])  // [B, C, H, W]
        return try projOut(map) + x
    }
}
