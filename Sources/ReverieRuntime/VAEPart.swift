import ReverieCore
import ReverieDiffusion
import ReverieNN

/// AutoencoderKL: `channels` per block (each block after the first halves the resolution).
public struct VAEPart: Codable, Sendable, Equatable, SelfChecking {
    public var channels = [32, 64], layersPerBlock = 1, latentChannels = 4, normGroups = 8
    /// 1/σ of the latents, measured at the end of the vae stage.
    public var scalingFactor = 1.0
    public var attention = false
    /// diffusers' `act_fn` of every resnet.
    public var activation = Activation.silu

    enum CodingKeys: String, CodingKey {
        case channels
        case layersPerBlock = "layers_per_block"
        case latentChannels = "latent_channels"
        case
            normGroups = "norm_groups"
        case scalingFactor = "scaling_factor"
        case attention
        case activation = "act_fn"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&channels, .channels)
        try c.update(&layersPerBlock, .layersPerBlock)
        try c.update(&latentChannels, .latentChannels)
        try c.update(&normGroups, .normGroups)
        try c.update(&scalingFactor, .scalingFactor)
        try c.update(&attention, .attention)
        try c.update(&activation, .activation)
    }

    public func validate() throws {
        try require(!channels.isEmpty && channels.count <= 8, "channels", "needs 1 to 8 blocks")
        for c in channels { try require(c, in: 1...TransformerShape.maxWidth, "channels") }
        try require(layersPerBlock, in: 1...64, "layers_per_block")
        try require(latentChannels, in: 1...1024, "latent_channels")
        try require(normGroups, in: 1...TransformerShape.maxWidth, "norm_groups")
        if let c = channels.first(where: { $0 % normGroups != 0 }) {
            throw ConfigurationError(key: "norm_groups", "\(normGroups) does not divide channel count \(c)")
        }
        try require(scalingFactor.isFinite && scalingFactor > 0, "scaling_factor", "must be positive")
    }

    /// How much smaller the latent grid is than the image.
    public var downsampling: Int { 1 << (channels.count - 1) }

    /// The autoencoder's configuration.
    public var autoencoderConfig: AutoencoderKLConfig {
        var c = AutoencoderKLConfig(
            blockOutChannels: channels, layersPerBlock: layersPerBlock, latentChannels: latentChannels,
            normNumGroups: normGroups, scalingFactor: Float(scalingFactor))
        (c.midBlockAddAttention, c.actFn) = (attention, activation)
        return c
    }
}
