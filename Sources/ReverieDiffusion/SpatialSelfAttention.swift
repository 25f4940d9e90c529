// port of diffusers `Attention` as used in `UNetMidBlock2D` of the VAE (models/attention_processor.py,
// AttnProcessor2_0 on 4-D input: group_norm, residual_connection=True, rescale_output_factor=1, biases on)
import ReverieCore
import ReverieNN

/// Self-attention over the H·W positions of a feature map, with a GroupNorm in front and a residual around it.
///
/// Keys: `group_norm`, `to_q`, `to_k`, `to_v`, `to_out.0` — all at this level, as in diffusers.
public final class SpatialSelfAttention: Module {
    public let channels: Int
    public let groupNorm: GroupNorm
    public let attention: MultiHeadAttention

    public init(channels: Int, headDim: Int, groups: Int, eps: Float, rng: inout RNG) throws {
        guard headDim > 0, channels % headDim == 0 else {
            throw DiffusionError.invalidConfiguration(
                component: "SpatialSelfAttention", detail: "channels \(channels) not divisible by headDim \(headDim)")
        }
        self.channels = channels
        groupNorm = try GroupNorm(groups: groups, channels: channels, eps: eps)
        attention = try MultiHeadAttention(
            dim: channels, heads: channels / headDim, bias: true,
            names: .diffusers, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("group_norm", groupNorm)
        for item in attention.items {
            if case let .child(name, m) = item { v.child(name, m) }
        }
    }

    /// x [B, C, H, W] → [B, C, H, W]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == channels else {
            throw TensorError.shapeMismatch(
                op: "SpatialSelfAttention", detail: "input \(shapeString(x.shape)), expected [B, \(channels), H, W]")
        }
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let tokens = try groupNorm(x).reshape([b, c, h * w]).permute([0, 2, 1])  // [B, HW, C]
        let out = try attention(tokens)  // [B, HW, C]
        return try out.permute([0, 2, 1]).reshape([b, c, h, w]) + x
    }
}
