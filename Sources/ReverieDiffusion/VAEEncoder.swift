// port of diffusers `Encoder` (models/autoencoders/vae.py) with DownEncoderBlock2D blocks, double_z=True
import ReverieCore
import ReverieNN

/// `DownEncoderBlock2D`: `layers` resnets, then (except in the last block) a stride-2 downsample.
/// Keys: `resnets.i`, `downsamplers.0.conv`.
public final class DownEncoderBlock2D: Module {
    public let resnets: [ResnetBlock2D]
    public let downsamplers: [Downsample2D]

    init(
        inChannels: Int, outChannels: Int, layers: Int, downsample: Bool, groups: Int, activation: Activation = .silu,
        rng: inout RNG
    ) throws {
        resnets = try (0..<layers).map { i in
            try ResnetBlock2D(
                inChannels: i == 0 ? inChannels : outChannels, outChannels: outChannels,
                tembChannels: nil, groups: groups, eps: 1e-6,
                style: ResnetStyle(activation: activation), rng: &rng)
        }
        downsamplers = downsample ? [try Downsample2D(channels: outChannels, padding: 0, rng: &rng)] : []
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.children("resnets", resnets)
        v.children("downsamplers", downsamplers)
    }

    /// x [B, in, H, W] → [B, out, H/2, W/2] (or [B, out, H, W] in the last block)
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = x
        for r in resnets { h = try r(h) }
        for d in downsamplers { h = try d(h) }
        return h
    }
}

/// The VAE encoder: image [B, in, H, W] → posterior moments [B, 2·latent, H/f, W/f] (f = 2^(blocks − 1)).
/// Keys: `conv_in`, `down_blocks.i`, `mid_block`, `conv_norm_out`, `conv_out`.
public final class VAEEncoder: Module {
    public let convIn: Conv2d
    public let downBlocks: [DownEncoderBlock2D]
    public let midBlock: UNetMidBlock2D
    public let convNormOut: GroupNorm
    public let convOut: Conv2d

    public init(config c: AutoencoderKLConfig, rng: inout RNG) throws {
        let ch = c.blockOutChannels
        convIn = try Conv2d(inChannels: c.inChannels, outChannels: ch[0], kernelSize: 3, padding: 1, rng: &rng)
        var blocks: [DownEncoderBlock2D] = []
        for i in ch.indices {
            blocks.append(
                try DownEncoderBlock2D(
                    inChannels: i == 0 ? ch[0] : ch[i - 1], outChannels: ch[i], layers: c.layersPerBlock,
                    downsample: i < ch.count - 1, groups: c.normNumGroups, activation: c.actFn,
                    rng: &rng))
        }
        downBlocks = blocks
        midBlock = try UNetMidBlock2D(
            channels: ch[ch.count - 1], tembChannels: nil, groups: c.normNumGroups,
            eps: 1e-6, addAttention: c.midBlockAddAttention, activation: c.actFn, rng: &rng)
        convNormOut = try GroupNorm(groups: c.normNumGroups, channels: ch[ch.count - 1], eps: 1e-6)
        convOut = try Conv2d(
            inChannels: ch[ch.count - 1], outChannels: 2 * c.latentChannels, kernelSize: 3,
            padding: 1, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("conv_in", convIn)
        v.children("down_blocks", downBlocks)
        v.child("mid_block", midBlock)
        v.child("conv_norm_out", convNormOut)
        v.child("conv_out", convOut)
    }

    /// x [B, in, H, W] → [B, 2·latent, H/f, W/f]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = try convIn(x)
        for block in downBlocks { h = try block(h) }
        h = try midBlock(h)
        return try convOut(convNormOut(h).silu())  // diffusers' conv_act is SiLU whatever act_fn says
    }
}
