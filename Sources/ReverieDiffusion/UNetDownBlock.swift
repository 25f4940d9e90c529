// port of diffusers `DownBlock2D` and `CrossAttnDownBlock2D` (models/unets/unet_2d_blocks.py)
import ReverieCore
import ReverieNN

/// A UNet encoder stage: `layers` × (resnet [→ cross-attention transformer]), then optionally a stride-2
/// downsample. Without attentions this is diffusers' `DownBlock2D`, with them `CrossAttnDownBlock2D`.
/// Keys: `resnets.i`, `attentions.i`, `downsamplers.0.conv`.
public final class UNetDownBlock: Module {
    public let resnets: [ResnetBlock2D]
    public let attentions: [Transformer2DModel]
    public let downsamplers: [Downsample2D]

    init(
        inChannels: Int, outChannels: Int, tembChannels: Int, layers: Int, crossAttention: CrossAttentionShape?,
        downsample: Bool, downsamplePadding: Int = 1, groups: Int, eps: Float, style: ResnetStyle = ResnetStyle(),
        rng: inout RNG
    ) throws {
        resnets = try (0..<layers).map { i in
            try ResnetBlock2D(
                inChannels: i == 0 ? inChannels : outChannels, outChannels: outChannels,
                tembChannels: tembChannels, groups: groups, eps: eps, style: style, rng: &rng)
        }
        attentions =
            try crossAttention.map { ca in
                try (0..<layers).map { _ in try ca.transformer(channels: outChannels, groups: groups, rng: &rng) }
            } ?? []
        downsamplers =
            downsample ? [try Downsample2D(channels: outChannels, padding: downsamplePadding, rng: &rng)] : []
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.children("attentions", attentions)
        v.children("resnets", resnets)
        v.children("downsamplers", downsamplers)
    }

    /// x [B, in, H, W], temb [B, T], context [B, S, D] → (out [B, out, H', W'], one skip per resnet and one
    /// after the downsample)
    func callAsFunction(_ x: Tensor, temb: Tensor, context: Tensor) throws -> (Tensor, [Tensor]) {
        var h = x
        var skips: [Tensor] = []
        for (i, resnet) in resnets.enumerated() {
            h = try resnet(h, temb: temb)
            if i < attentions.count { h = try attentions[i](h, context: context) }
            skips.append(h)
        }
        for d in downsamplers {
            h = try d(h)
            skips.append(h)
        }
        return (h, skips)
    }
}

/// A UNet decoder stage: `layers` × (concat a skip → resnet [→ cross-attention transformer]), then optionally a
/// ×2 upsample. diffusers' `UpBlock2D` / `CrossAttnUpBlock2D`. Keys: `resnets.i`, `attentions.i`,
/// `upsamplers.0.conv`.
public final class UNetUpBlock: Module {
    public let resnets: [ResnetBlock2D]
    public let attentions: [Transformer2DModel]
    public let upsamplers: [Upsample2D]

    /// - Parameters:
    ///   - inChannels: channels of the last skip this block consumes (the stage below's input).
    ///   - prevOutputChannels: channels arriving from the stage below.
    init(
        inChannels: Int, prevOutputChannels: Int, outChannels: Int, tembChannels: Int, layers: Int,
        crossAttention: CrossAttentionShape?, upsample: Bool, groups: Int, eps: Float,
        style: ResnetStyle = ResnetStyle(), rng: inout RNG
    ) throws {
        resnets = try (0..<layers).map { i in
            let skip = i == layers - 1 ? inChannels : outChannels
            let input = i == 0 ? prevOutputChannels : outChannels
            return try ResnetBlock2D(
                inChannels: input + skip, outChannels: outChannels, tembChannels: tembChannels,
                groups: groups, eps: eps, style: style, rng: &rng)
        }
        attentions =
            try crossAttention.map { ca in
                try (0..<layers).map { _ in try ca.transformer(channels: outChannels, groups: groups, rng: &rng) }
            } ?? []
        upsamplers = upsample ? [try Upsample2D(channels: outChannels, rng: &rng)] : []
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.children("attentions", attentions)
        v.children("resnets", resnets)
        v.children("upsamplers", upsamplers)
    }

    /// x [B, prev, H, W], skips (consumed from the end) → [B, out, 2H, 2W] (or H, W in the last stage)
    func callAsFunction(_ x: Tensor, skips: inout [Tensor], temb: Tensor, context: Tensor) throws -> Tensor {
        var h = x
        for (i, resnet) in resnets.enumerated() {
            guard let skip = skips.popLast() else {
                throw TensorError.invalidArgument(op: "UNetUpBlock", detail: "ran out of skip connections")
            }
            h = try resnet(concat([h, skip], axis: 1), temb: temb)
            if i < attentions.count { h = try attentions[i](h, context: context) }
        }
        for u in upsamplers { h = try u(h) }
        return h
    }
}

/// The cross-attention mid block: resnet → transformer → resnet. diffusers' `UNetMidBlock2DCrossAttn`.
/// Keys: `resnets.{0,1}`, `attentions.0`.
public final class UNetMidBlock2DCrossAttn: Module {
    public let resnets: [ResnetBlock2D]
    public let attentions: [Transformer2DModel]

    init(
        channels: Int, tembChannels: Int, crossAttention: CrossAttentionShape, groups: Int, eps: Float,
        style: ResnetStyle = ResnetStyle(), rng: inout RNG
    ) throws {
        resnets = try (0..<2).map { _ in
            try ResnetBlock2D(
                inChannels: channels, outChannels: channels, tembChannels: tembChannels,
                groups: groups, eps: eps, style: style, rng: &rng)
        }
        attentions = [try crossAttention.transformer(channels: channels, groups: groups, rng: &rng)]
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.children("attentions", attentions)
        v.children("resnets", resnets)
    }

    /// x [B, C, H, W] → [B, C, H, W]
    func callAsFunction(_ x: Tensor, temb: Tensor, context: Tensor) throws -> Tensor {
        let h = try attentions[0](resnets[0](x, temb: temb), context: context)
        return try resnets[1](h, temb: temb)
    }
}

/// The cross-attention transformers of a block: heads, condition width, transformer layers and projection kind.
struct CrossAttentionShape {
    var heads: Int
    var dim: Int
    var layers = 1
    var linearProjection = false

    func transformer(channels: Int, groups: Int, rng: inout RNG) throws -> Transformer2DModel {
        try Transformer2DModel(
            channels: channels, heads: heads, crossAttentionDim: dim, groups: groups, layers: layers,
            linearProjection: linearProjection, rng: &rng)
    }
}
