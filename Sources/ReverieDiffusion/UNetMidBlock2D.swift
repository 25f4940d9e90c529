// port of diffusers `UNetMidBlock2D` (models/unets/unet_2d_blocks.py), one attention layer
import ReverieCore
import ReverieNN

/// resnet → self-attention → resnet at the lowest resolution (the VAE's mid block). Keys: `resnets.{0,1}`,
/// `attentions.0`.
public final class UNetMidBlock2D: Module {
    public let resnets: [ResnetBlock2D]
    public let attentions: [SpatialSelfAttention]

    public init(
        channels: Int, tembChannels: Int?, groups: Int, eps: Float, addAttention: Bool,
        activation: Activation = .silu, rng: inout RNG
    ) throws {
        resnets = try (0..<2).map { _ in
            try ResnetBlock2D(
                inChannels: channels, outChannels: channels, tembChannels: tembChannels,
                groups: groups, eps: eps, style: ResnetStyle(activation: activation), rng: &rng)
        }
        attentions =
            addAttention
            ? [try SpatialSelfAttention(channels: channels, headDim: channels, groups: groups, eps: eps, rng: &rng)]
            : []
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.children("attentions", attentions)
        v.children("resnets", resnets)
    }

    /// x [B, C, H, W] → [B, C, H, W]
    public func callAsFunction(_ x: Tensor, temb: Tensor? = nil) throws -> Tensor {
        var h = try resnets[0](x, temb: temb)
        if let attention = attentions.first { h = try attention(h) }
        return try resnets[1](h, temb: temb)
    }
}
