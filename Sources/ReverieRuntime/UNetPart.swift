import ReverieCore
import ReverieDiffusion

/// The conditional UNet of the decoder; its conditions are the vision encoder's features (its width).
///
/// Built from the options below, or (`init: hf:DIR`) from a diffusers `UNet2DConditionModel`, whose whole
/// configuration is kept in `diffusers`. Such a UNet takes the Reverie-only options as a recipe sets them; extra
/// input channels (a source latent, spatial conditions) start as zero weights on `conv_in` (InstructPix2Pix), and
/// conditions wider or narrower than `cross_attention_dim` go through a fresh `encoder_hid_proj`.
public struct UNetPart: Codable, Sendable, Equatable, SelfChecking {
    public var channels = [64, 128], layersPerBlock = 1, heads = 4, normGroups = 8
    /// Condition tokens: the encoder's patch grid average-pooled to √tokens × √tokens.
    public var conditionTokens = 16
    /// What the UNet predicts under DDPM, and the training schedule.
    public var prediction = PredictionType.epsilon
    public var trainTimesteps = 1000
    public var betaSchedule = BetaSchedule.scaledLinear
    /// β₁ and β_T of the linear and scaled-linear schedules (Stable Diffusion's by default).
    public var betaStart = 0.00085, betaEnd = 0.012
    public var null = NullConditionKind.learned
    /// Also feed the conditions as input channels laid on the latent grid (`spatialConditionMap`).
    public var spatialConditioning = false
    /// Per level: cross-attention blocks (true) or plain resnet blocks (false); empty = attention everywhere.
    public var attention: [Bool] = []
    /// Also take a source image's latent as input channels (editing).
    public var sourceLatent = false
    /// Also add the conditions, laid on each level's grid, before every UNet block (`ConditionInjection`).
    public var spatialInjection = false
    /// A pretrained UNet's configuration (its `config.json`), which `channels`, `layers_per_block`, `heads`,
    /// `norm_groups` and `attention` then only summarise; nil for a UNet built from those options.
    public var diffusers: UNet2DConditionConfig?

    enum CodingKeys: String, CodingKey {
        case channels
        case layersPerBlock = "layers_per_block"
        case heads
        case normGroups = "norm_groups"
        case
            conditionTokens = "condition_tokens"
        case prediction
        case trainTimesteps = "train_timesteps"
        case
            betaSchedule = "beta_schedule"
        case betaStart = "beta_start"
        case betaEnd = "beta_end"
        case null
        case spatialConditioning = "spatial_conditioning"
        case attention
        case
            sourceLatent = "source_latent"
        case spatialInjection = "spatial_injection"
        case diffusers
        /// The name checkpoints written before 2026-12-07 stored `spatial_conditioning` under.
        case legacySpatial = "spatial"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&channels, .channels)
        try c.update(&layersPerBlock, .layersPerBlock)
        try c.update(&heads, .heads)
        try c.update(&normGroups, .normGroups)
        try c.update(&conditionTokens, .conditionTokens)
        try c.update(&prediction, .prediction)
        try c.update(&trainTimesteps, .trainTimesteps)
        try c.update(&betaSchedule, .betaSchedule)
        try c.update(&betaStart, .betaStart)
        try c.update(&betaEnd, .betaEnd)
        try c.update(&null, .null)
        try c.update(&spatialConditioning, .legacySpatial)
        try c.update(&spatialConditioning, .spatialConditioning)
        try c.update(&attention, .attention)
        try c.update(&sourceLatent, .sourceLatent)
        try c.update(&spatialInjection, .spatialInjection)
        diffusers = try c.decodeIfPresent(UNet2DConditionConfig.self, forKey: .diffusers)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(channels, forKey: .channels)
        try c.encode(layersPerBlock, forKey: .layersPerBlock)
        try c.encode(heads, forKey: .heads)
        try c.encode(normGroups, forKey: .normGroups)
        try c.encode(conditionTokens, forKey: .conditionTokens)
        try c.encode(prediction, forKey: .prediction)
        try c.encode(trainTimesteps, forKey: .trainTimesteps)
        try c.encode(betaSchedule, forKey: .betaSchedule)
        try c.encode(betaStart, forKey: .betaStart)
        try c.encode(betaEnd, forKey: .betaEnd)
        try c.encode(null, forKey: .null)
        try c.encode(spatialConditioning, forKey: .spatialConditioning)
        try c.encode(attention, forKey: .attention)
        try c.encode(sourceLatent, forKey: .sourceLatent)
        try c.encode(spatialInjection, forKey: .spatialInjection)
        try c.encodeIfPresent(diffusers, forKey: .diffusers)
    }

    public func validate() throws {
        try require(!channels.isEmpty && channels.count <= 8, "channels", "needs 1 to 8 blocks")
        for c in channels { try require(c, in: 1...TransformerShape.maxWidth, "channels") }
        try require(layersPerBlock, in: 1...64, "layers_per_block")
        try require(heads, in: 1...1024, "heads")
        try require(normGroups, in: 1...TransformerShape.maxWidth, "norm_groups")
        try require(trainTimesteps, in: 1...100_000, "train_timesteps")
        try require(conditionTokens, in: 1...(1 << 16), "condition_tokens")
        try require(
            betaSchedule == .squaredcosCapV2 || (0 < betaStart && betaStart <= betaEnd && betaEnd < 1), "beta_start",
            "needs 0 < beta_start (\(betaStart)) ≤ beta_end (\(betaEnd)) < 1")
        try require(
            attention.isEmpty || attention.count == channels.count, "attention",
            "needs one entry per level of channels (\(channels.count))")
        if let c = channels.first(where: { $0 % normGroups != 0 }) {
            throw ConfigurationError(key: "norm_groups", "\(normGroups) does not divide channel count \(c)")
        }
        let side = Int(Double(conditionTokens).squareRoot().rounded())
        try require(side * side == conditionTokens, "condition_tokens", "must be a square")
    }

    /// The input channels the UNet takes: the noisy latent, a source latent when editing, the conditions laid on
    /// the grid with spatial conditioning.
    public func inputChannels(latentChannels: Int, conditionDim: Int) -> Int {
        latentChannels * (sourceLatent ? 2 : 1) + (spatialConditioning ? conditionDim : 0)
    }

    /// The UNet's configuration for latents of `latentChannels` and conditions of width `conditionDim`.
    public func unetConfig(latentChannels: Int, conditionDim: Int) throws -> UNet2DConditionConfig {
        let inChannels = inputChannels(latentChannels: latentChannels, conditionDim: conditionDim)
        if var c = diffusers {
            guard c.outChannels == latentChannels else {
                throw ConfigurationError(
                    key: "diffusers.out_channels",
                    "\(c.outChannels), but the autoencoder has \(latentChannels) latent channels")
            }
            guard c.inChannels == inChannels || c.inChannels == latentChannels else {
                throw ConfigurationError(
                    key: "diffusers.in_channels",
                    "\(c.inChannels): neither the latent's \(latentChannels) channels nor the \(inChannels) this part takes"
                )
            }
            if let hid = c.encoderHidDim, hid != conditionDim {
                throw ConfigurationError(
                    key: "diffusers.encoder_hid_dim", "\(hid), but the conditions have width \(conditionDim)")
            }
            if c.crossAttentionDim != conditionDim { c.encoderHidDim = conditionDim }
            (c.inChannels, c.spatialInjection) = (inChannels, spatialInjection)
            return c
        }
        let n = channels.count
        let levels = attention.isEmpty ? Array(repeating: true, count: n) : attention
        var c = UNet2DConditionConfig(
            inChannels: inChannels, outChannels: latentChannels, blockOutChannels: channels,
            layersPerBlock: layersPerBlock,
            downBlockTypes: levels.map { $0 ? "CrossAttnDownBlock2D" : "DownBlock2D" },
            upBlockTypes: levels.reversed().map { $0 ? "CrossAttnUpBlock2D" : "UpBlock2D" },
            crossAttentionDim: conditionDim, heads: Array(repeating: heads, count: n), normNumGroups: normGroups)
        c.spatialInjection = spatialInjection
        return c
    }

    /// √conditionTokens: the side of the pooled condition grid.
    public var conditionSide: Int { Int(Double(conditionTokens).squareRoot().rounded()) }
}
