// port of diffusers `UNet2DConditionModel` (models/unets/unet_2d_condition.py): positional time embedding,
// Down/CrossAttnDown and Up/CrossAttnUp blocks, UNetMidBlock2DCrossAttn, no class or added embeddings (SDXL's
// text_time addition is refused by DiffusersConfigKeys)
import ReverieCore
import ReverieNN

/// The conditional UNet denoiser of latent diffusion: ε/v/x0 prediction from a noisy latent, a timestep per item,
/// and condition tokens attended to by cross-attention. Extra input channels (`in_channels` > the latent's) take a
/// source-image latent concatenated along channels, as InstructPix2Pix and SEED-X-Edit do.
///
/// Keys: `conv_in`, `time_embedding.linear_{1,2}`, `down_blocks.i`, `mid_block`, `up_blocks.i`, `conv_norm_out`,
/// `conv_out` — diffusers' names.
public final class UNet2DConditionModel: Module {
    public let config: UNet2DConditionConfig
    public let convIn: Conv2d
    public let timeEmbedding: TimestepEmbedding
    public let downBlocks: [UNetDownBlock]
    public let midBlock: UNetMidBlock2DCrossAttn
    public let upBlocks: [UNetUpBlock]
    public let convNormOut: GroupNorm
    public let convOut: Conv2d
    /// The conditions added at every level (`spatial_injection`), or nil.
    public let conditionInjection: ConditionInjection?
    /// Brings conditions of `encoder_hid_dim` to `cross_attention_dim` (diffusers' text_proj), or nil.
    public let encoderHidProj: Linear?

    /// - Throws: `DiffusionError.invalidConfiguration` for an inconsistent or unsupported configuration.
    public init(config c: UNet2DConditionConfig, rng: inout RNG) throws {
        try c.validate()
        config = c
        encoderHidProj = try c.encoderHidDim.map {
            try Linear(inFeatures: $0, outFeatures: c.crossAttentionDim, rng: &rng)
        }
        let ch = c.blockOutChannels, n = ch.count, temb = ch[0] * 4
        let (groups, eps) = (c.normNumGroups, c.normEps)
        convIn = try Conv2d(inChannels: c.inChannels, outChannels: ch[0], kernelSize: 3, padding: 1, rng: &rng)
        timeEmbedding = try TimestepEmbedding(
            inChannels: ch[0], embedDim: temb, activation: c.actFn, postActivation: c.timestepPostAct, rng: &rng)
        let style = ResnetStyle(activation: c.actFn)
        var down: [UNetDownBlock] = []
        for i in 0..<n {
            down.append(
                try UNetDownBlock(
                    inChannels: i == 0 ? ch[0] : ch[i - 1], outChannels: ch[i], tembChannels: temb,
                    layers: c.layersPerBlock,
                    crossAttention: c.downHasAttention[i] ? c.crossAttention(i) : nil, downsample: i < n - 1,
                    downsamplePadding: c.downsamplePadding, groups: groups, eps: eps, style: style, rng: &rng))
        }
        downBlocks = down
        midBlock = try UNetMidBlock2DCrossAttn(
            channels: ch[n - 1], tembChannels: temb, crossAttention: c.crossAttention(n - 1), groups: groups, eps: eps,
            style: ResnetStyle(activation: c.actFn, outputScale: c.midBlockScaleFactor), rng: &rng)
        let rev = Array(ch.reversed())
        var up: [UNetUpBlock] = []
        for i in 0..<n {
            up.append(
                try UNetUpBlock(
                    inChannels: rev[min(i + 1, n - 1)], prevOutputChannels: i == 0 ? rev[0] : rev[i - 1],
                    outChannels: rev[i], tembChannels: temb, layers: c.layersPerBlock + 1,
                    crossAttention: c.upHasAttention[i] ? c.crossAttention(i, up: true) : nil,
                    upsample: i < n - 1, groups: groups, eps: eps, style: style, rng: &rng))
        }
        upBlocks = up
        convNormOut = try GroupNorm(groups: groups, channels: ch[0], eps: eps)
        convOut = try Conv2d(inChannels: ch[0], outChannels: c.outChannels, kernelSize: 3, padding: 1, rng: &rng)
        conditionInjection =
            c.spatialInjection
            ? try ConditionInjection(channels: ch, conditionDim: c.crossAttentionDim, rng: &rng) : nil
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("conv_in", convIn)
        v.child("time_embedding", timeEmbedding)
        v.child("encoder_hid_proj", encoderHidProj)
        v.children("down_blocks", downBlocks)
        v.child("mid_block", midBlock)
        v.children("up_blocks", upBlocks)
        v.child("conv_norm_out", convNormOut)
        v.child("conv_out", convOut)
        v.child("condition_injection", conditionInjection)
    }

    /// sample [B, in, H, W], timesteps [B], conditions [B, S, conditionWidth] → [B, out, H, W].
    /// H and W must be multiples of 2^(blocks − 1). Differentiable in `sample` and `conditions`.
    public func callAsFunction(_ sample: Tensor, timesteps: [Float], conditions: Tensor) throws -> Tensor {
        let f = 1 << (config.blockOutChannels.count - 1)
        guard sample.rank == 4, sample.shape[1] == config.inChannels, sample.shape[2] % f == 0,
            sample.shape[3] % f == 0, timesteps.count == sample.shape[0]
        else {
            throw TensorError.shapeMismatch(
                op: "UNet2DConditionModel",
                detail: "sample \(shapeString(sample.shape)) with \(timesteps.count) timesteps; expected "
                    + "[B, \(config.inChannels), H, W], H and W multiples of \(f), one timestep per item")
        }
        guard conditions.rank == 3, conditions.shape[0] == sample.shape[0],
            conditions.shape[2] == config.conditionWidth
        else {
            throw TensorError.shapeMismatch(
                op: "UNet2DConditionModel",
                detail: "conditions \(shapeString(conditions.shape)), expected [\(sample.shape[0]), S, "
                    + "\(config.conditionWidth)]")
        }
        let conditions = try encoderHidProj.map { try $0(conditions) } ?? conditions  // [B, S, cross_attention_dim]
        let tFeatures = try sinusoidalTimestepEmbedding(
            timesteps, dim: config.blockOutChannels[0], flipSinToCos: config.flipSinToCos,
            freqShift: config.freqShift)  // [B, C0]
        var temb = try timeEmbedding(tFeatures)  // [B, 4·C0]
        if let act = config.timeEmbeddingActFn { temb = try act(temb) }
        let inject = conditionInjection
        func injected(_ h: Tensor, _ conv: Conv2d?) throws -> Tensor {
            guard let inject, let conv else { return h }
            return try inject.add(h, conv, conditions: conditions)
        }
        var h = try convIn(config.centerInputSample ? 2 * sample - 1 : sample)  // [B, C0, H, W]
        var skips = [h]
        for (i, block) in downBlocks.enumerated() {
            let (out, blockSkips) = try block(injected(h, inject?.down[i]), temb: temb, context: conditions)
            h = out
            skips += blockSkips
        }
        h = try midBlock(injected(h, inject?.mid), temb: temb, context: conditions)  // [B, C_last, H/f, W/f]
        for (i, block) in upBlocks.enumerated() {
            h = try block(injected(h, inject?.up[i]), skips: &skips, temb: temb, context: conditions)
        }
        return try convOut(config.actFn(convNormOut(injected(h, inject?.out))))  // [B, out, H, W]
    }
}
