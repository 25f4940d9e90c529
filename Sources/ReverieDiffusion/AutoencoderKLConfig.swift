import Foundation
import ReverieNN

/// The configuration of an `AutoencoderKL`, with diffusers' `config.json` key names: `DownEncoderBlock2D` /
/// `UpDecoderBlock2D` stacks with any activation. `DiffusersConfigKeys.autoencoder` lists what every other key must
/// be; a config that departs from it is refused by key and value.
public struct AutoencoderKLConfig: Codable, Sendable, Equatable {
    public var inChannels = 3
    public var outChannels = 3
    public var blockOutChannels = [64]
    public var layersPerBlock = 1
    public var latentChannels = 4
    public var normNumGroups = 32
    public var scalingFactor: Float = 0.18215
    public var useQuantConv = true
    public var usePostQuantConv = true
    public var midBlockAddAttention = true
    public var actFn = Activation.silu

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels"
        case outChannels = "out_channels"
        case blockOutChannels = "block_out_channels"
        case layersPerBlock = "layers_per_block"
        case latentChannels = "latent_channels"
        case normNumGroups = "norm_num_groups"
        case scalingFactor = "scaling_factor"
        case useQuantConv = "use_quant_conv"
        case usePostQuantConv = "use_post_quant_conv"
        case midBlockAddAttention = "mid_block_add_attention"
        case actFn = "act_fn"
        case downBlockTypes = "down_block_types"
        case upBlockTypes = "up_block_types"
    }

    public init(
        inChannels: Int = 3, outChannels: Int = 3, blockOutChannels: [Int] = [64], layersPerBlock: Int = 1,
        latentChannels: Int = 4, normNumGroups: Int = 32, scalingFactor: Float = 0.18215
    ) {
        (self.inChannels, self.outChannels, self.blockOutChannels) = (inChannels, outChannels, blockOutChannels)
        (self.layersPerBlock, self.latentChannels) = (layersPerBlock, latentChannels)
        (self.normNumGroups, self.scalingFactor) = (normNumGroups, scalingFactor)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AutoencoderKLConfig()
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? d.outChannels
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? d.blockOutChannels
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock) ?? d.layersPerBlock
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels) ?? d.latentChannels
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups) ?? d.normNumGroups
        scalingFactor = try c.decodeIfPresent(Float.self, forKey: .scalingFactor) ?? d.scalingFactor
        useQuantConv = try c.decodeIfPresent(Bool.self, forKey: .useQuantConv) ?? d.useQuantConv
        usePostQuantConv = try c.decodeIfPresent(Bool.self, forKey: .usePostQuantConv) ?? d.usePostQuantConv
        midBlockAddAttention =
            try c.decodeIfPresent(Bool.self, forKey: .midBlockAddAttention)
            ?? d.midBlockAddAttention
        actFn =
            try c.decodeIfPresent(String.self, forKey: .actFn).map { try diffusersActivation($0, key: "act_fn") }
            ?? .silu
        for (key, only) in [(CodingKeys.downBlockTypes, "DownEncoderBlock2D"), (.upBlockTypes, "UpDecoderBlock2D")] {
            if let types = try c.decodeIfPresent([String].self, forKey: key),
                let other = types.first(where: { $0 != only })
            {
                throw DiffusionError.invalidConfiguration(
                    component: "AutoencoderKL", detail: "\(key.stringValue) has '\(other)'; only \(only) is implemented"
                )
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inChannels, forKey: .inChannels)
        try c.encode(outChannels, forKey: .outChannels)
        try c.encode(blockOutChannels, forKey: .blockOutChannels)
        try c.encode(layersPerBlock, forKey: .layersPerBlock)
        try c.encode(latentChannels, forKey: .latentChannels)
        try c.encode(normNumGroups, forKey: .normNumGroups)
        try c.encode(scalingFactor, forKey: .scalingFactor)
        try c.encode(useQuantConv, forKey: .useQuantConv)
        try c.encode(usePostQuantConv, forKey: .usePostQuantConv)
        try c.encode(midBlockAddAttention, forKey: .midBlockAddAttention)
        if actFn != .silu { try c.encode(actFn, forKey: .actFn) }
    }

    /// Decodes and validates a diffusers-style JSON configuration; `source` (a file name) is used in the error message.
    public static func decode(json: String, source: String) throws -> AutoencoderKLConfig {
        do {
            try DiffusersConfigKeys.check(
                json: json, rules: DiffusersConfigKeys.autoencoder, component: "AutoencoderKL")
            let config = try JSONDecoder().decode(AutoencoderKLConfig.self, from: Data(json.utf8))
            try config.validate()
            return config
        } catch {
            throw DiffusionError.invalidConfiguration(
                component: "AutoencoderKL config in \(source)", detail: "\(error)")
        }
    }

    func validate() throws {
        func fail(_ detail: String) -> DiffusionError {
            .invalidConfiguration(component: "AutoencoderKL", detail: detail)
        }
        guard !blockOutChannels.isEmpty, blockOutChannels.allSatisfy({ $0 > 0 }) else {
            throw fail("block_out_channels \(blockOutChannels) must be non-empty and positive")
        }
        try ConvNetBounds.check(
            component: "AutoencoderKL", channels: blockOutChannels, layersPerBlock: layersPerBlock,
            sizes: [("in_channels", inChannels), ("out_channels", outChannels), ("latent_channels", latentChannels)])
        guard layersPerBlock >= 1, latentChannels >= 1, inChannels >= 1, outChannels >= 1, normNumGroups >= 1 else {
            throw fail("layers_per_block, latent_channels, in/out_channels and norm_num_groups must be ≥ 1")
        }
        guard blockOutChannels.allSatisfy({ $0 % normNumGroups == 0 }) else {
            throw fail("block_out_channels \(blockOutChannels) must be divisible by norm_num_groups \(normNumGroups)")
        }
    }
}
