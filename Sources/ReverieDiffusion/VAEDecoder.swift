// port of diffusers `Decoder` (models/autoencoders/vae.py) with UpDecoderBlock2D blocks, norm_type "group"
import ReverieCore
import ReverieNN

/// `UpDecoderBlock2D`: `layers` resnets, then (except in the last block) a ×2 upsample.
/// Keys: `resnets.i`, `upsamplers.0.conv`.
public final class UpDecoderBlock2D: Module {
    public let resnets: [ResnetBlock2D]
    public let upsamplers: [Upsample2D]

    init(
        inChannels: Int, outChannels: Int, layers: Int, upsample: Bool, groups: Int, activation: Activation = .silu,
        rng: inout RNG
    ) throws {
        resnets = try (0..<layers).map { i in
            try ResnetBlock2D(
                inChannels: i == 0 ? inChannels : outChannels, outChannels: outChannels,
                tembChannels: nil, groups: groups, eps: 1e-6,
                style: ResnetStyle(activation: activation), rng: &rng)
        }
        upsamplers = upsample ? [try Upsample2D(channels: outChannels, rng: &rng)] : []
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.children("resnets", resnets)
        v.children("upsamplers", upsamplers)
    }

    /// x [B, in, H, W] → [B, out, 2H, 2W] (or [B, out, H, W] in the last block)
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = x
        for r in resnets { h = try r(h) }
        for u in upsamplers { h = try u(h) }
        return h
    }
}

/// The VAE decoder: latent [B, latent, h, w] → image [B, out, h·f, w·f].
/// Keys: `conv_in`, `mid_block`, `up_blocks.i`, `conv_norm_out`, `conv_out`.
public final class VAEDecoder: Module {
    public let convIn: Conv2d
    public let midBlock: UNetMidBlock2D
    public let upBlocks: [UpDecoderBlock2D]
    public let convNormOut: GroupNorm
    public let convOut: Conv2d

    public init(config c: AutoencoderKLConfig, rng: inout RNG) throws {
        let rev = Array(c.blockOutChannels.reversed())
        convIn = try Conv2d(inChannels: c.latentChannels, outChannels: rev[0], kernelSize: 3, padding: 1, rng: &rng)
        midBlock = try UNetMidBlock2D(
            channels: rev[0], tembChannels: nil, groups: c.normNumGroups, eps: 1e-6,
            addAttention: c.midBlockAddAttention, activation: c.actFn, rng: &rng)
        var blocks: [UpDecoderBlock2D] = []
        for i in rev.indices {
            blocks.append(
                try UpDecoderBlock2D(
                    inChannels: i == 0 ? rev[0] : rev[i - 1], outChannels: rev[i], layers: c.layersPerBlock + 1,
                    upsample: i < rev.count - 1, groups: c.normNumGroups, activation: c.actFn,
                    rng: &rng))
        }
        upBlocks = blocks
        convNormOut = try GroupNorm(groups: c.normNumGroups, channels: rev[rev.count - 1], eps: 1e-6)
        convOut = try Conv2d(
            inChannels: rev[rev.count - 1], outChannels: c.outChannels, kernelSize: 3, padding: 1,
            rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("conv_in", convIn)
        v.child("mid_block", midBlock)
        v.children("up_blocks", upBlocks)
        v.child("conv_norm_out", convNormOut)
        v.child("conv_out", convOut)
    }

    /// z [B, latent, h, w] → [B, out, h·f, w·f]
    public func callAsFunction(_ z: Tensor) throws -> Tensor {
        var h = try midBlock(convIn(z))
        for block in upBlocks { h = try block(h) }
        return try convOut(convNormOut(h).silu())  // diffusers' conv_act is SiLU whatever act_fn says
    }
}
