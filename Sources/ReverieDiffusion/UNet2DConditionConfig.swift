import Foundation
import ReverieNN

/// The configuration of a `UNet2DConditionModel`, read from diffusers' `config.json` key names. Supported:
/// `DownBlock2D` / `CrossAttnDownBlock2D` and `UpBlock2D` / `CrossAttnUpBlock2D` stacks, the
/// `UNetMidBlock2DCrossAttn` mid block, positional timestep embeddings, any transformer layers per block, conv or
/// linear projections, and the activation and scaling keys. `DiffusersConfigKeys.unet` lists what every other
/// key must be; a config that departs from it is refused by key and value.
public struct UNet2DConditionConfig: Codable, Sendable, Equatable {
    public var inChannels = 4
    public var outChannels = 4
    public var blockOutChannels = [320, 640, 1280, 1280]
    public var layersPerBlock = 2
    public var downBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    public var upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
    public var crossAttentionDim = 1280
    /// Attention heads per block (diffusers' historically misnamed `attention_head_dim`, or `num_attention_heads`).
    public var heads = [8, 8, 8, 8]
    public var normNumGroups = 32
    public var normEps: Float = 1e-5
    public var flipSinToCos = true
    public var freqShift: Float = 0
    /// Reverie's extension: the conditions, laid on each level's grid, added before every block
    /// (`ConditionInjection`; JSON `reverie_spatial_injection`, written only when true). Needs a square number of
    /// condition tokens.
    public var spatialInjection = false
    /// Transformer layers of each down block's cross-attentions (the up blocks take them reversed, the mid block
    /// the last); empty for one everywhere.
    public var transformerLayersPerBlock: [Int] = []
    public var useLinearProjection = false
    public var actFn = Activation.silu
    /// `2·sample − 1` before `conv_in`.
    public var centerInputSample = false
    public var downsamplePadding = 1
    public var midBlockScaleFactor: Float = 1
    public var timestepPostAct: Activation?
    public var timeEmbeddingActFn: Activation?
    /// `encoder_hid_dim` with `encoder_hid_dim_type: text_proj`: the width of the condition tokens the UNet takes,
    /// brought to `cross_attention_dim` by one linear layer (`encoder_hid_proj`) before every block. nil: the
    /// conditions already have `cross_attention_dim`.
    public var encoderHidDim: Int?

    /// The width of the condition tokens `callAsFunction` takes.
    public var conditionWidth: Int { encoderHidDim ?? crossAttentionDim }

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels"
        case outChannels = "out_channels"
        case blockOutChannels = "block_out_channels"
        case layersPerBlock = "layers_per_block"
        case downBlockTypes = "down_block_types"
        case upBlockTypes = "up_block_types"
        case crossAttentionDim = "cross_attention_dim"
        case heads = "attention_head_dim"
        case numAttentionHeads = "num_attention_heads"
        case normNumGroups = "norm_num_groups"
        case normEps = "norm_eps"
        case flipSinToCos = "flip_sin_to_cos"
        case freqShift = "freq_shift"
        case transformerLayersPerBlock = "transformer_layers_per_block"
        case useLinearProjection = "use_linear_projection"
        case midBlockType = "mid_block_type"
        case timeEmbeddingType = "time_embedding_type"
        case spatialInjection = "reverie_spatial_injection"
        case actFn = "act_fn"
        case centerInputSample = "center_input_sample"
        case downsamplePadding = "downsample_padding"
        case midBlockScaleFactor = "mid_block_scale_factor"
        case timestepPostAct = "timestep_post_act"
        case timeEmbeddingActFn = "time_embedding_act_fn"
        case encoderHidDim = "encoder_hid_dim"
        case encoderHidDimType = "encoder_hid_dim_type"
    }

    public init(
        inChannels: Int = 4, outChannels: Int = 4, blockOutChannels: [Int], layersPerBlock: Int = 1,
        downBlockTypes: [String], upBlockTypes: [String], crossAttentionDim: Int, heads: [Int],
        normNumGroups: Int = 32
    ) {
        (self.inChannels, self.outChannels, self.blockOutChannels) = (inChannels, outChannels, blockOutChannels)
        (self.layersPerBlock, self.downBlockTypes, self.upBlockTypes) = (layersPerBlock, downBlockTypes, upBlockTypes)
        (self.crossAttentionDim, self.heads, self.normNumGroups) = (crossAttentionDim, heads, normNumGroups)
    }

    /// An int or a list of ints (diffusers allows both for per-block options).
    private static func intOrList(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys, count: Int) throws
        -> [Int]?
    {
        if let one = try? c.decodeIfPresent(Int.self, forKey: key) { return Array(repeating: one, count: count) }
        return try c.decodeIfPresent([Int].self, forKey: key)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = UNet2DConditionConfig(
            blockOutChannels: [320, 640, 1280, 1280], layersPerBlock: 2,
            downBlockTypes: [], upBlockTypes: [], crossAttentionDim: 1280, heads: [])
        d.downBlockTypes = UNet2DConditionConfig.defaultDown
        d.upBlockTypes = UNet2DConditionConfig.defaultUp
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? d.outChannels
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? d.blockOutChannels
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock) ?? d.layersPerBlock
        downBlockTypes = try c.decodeIfPresent([String].self, forKey: .downBlockTypes) ?? d.downBlockTypes
        upBlockTypes = try c.decodeIfPresent([String].self, forKey: .upBlockTypes) ?? d.upBlockTypes
        crossAttentionDim = try c.decodeIfPresent(Int.self, forKey: .crossAttentionDim) ?? d.crossAttentionDim
        let n = blockOutChannels.count
        heads =
            try Self.intOrList(c, .numAttentionHeads, count: n) ?? Self.intOrList(c, .heads, count: n)
            ?? Array(repeating: 8, count: n)
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups) ?? d.normNumGroups
        normEps = try c.decodeIfPresent(Float.self, forKey: .normEps) ?? d.normEps
        flipSinToCos = try c.decodeIfPresent(Bool.self, forKey: .flipSinToCos) ?? d.flipSinToCos
        freqShift = try c.decodeIfPresent(Float.self, forKey: .freqShift) ?? d.freqShift
        spatialInjection = try c.decodeIfPresent(Bool.self, forKey: .spatialInjection) ?? false
        let layers = try Self.intOrList(c, .transformerLayersPerBlock, count: n) ?? []
        transformerLayersPerBlock = layers.allSatisfy { $0 == 1 } ? [] : layers  // one everywhere: written as absent
        useLinearProjection = try c.decodeIfPresent(Bool.self, forKey: .useLinearProjection) ?? false
        func activation(_ key: CodingKeys) throws -> Activation? {
            try c.decodeIfPresent(String.self, forKey: key).map { try diffusersActivation($0, key: key.stringValue) }
        }
        actFn = try activation(.actFn) ?? .silu
        timestepPostAct = try activation(.timestepPostAct)
        timeEmbeddingActFn = try activation(.timeEmbeddingActFn)
        centerInputSample = try c.decodeIfPresent(Bool.self, forKey: .centerInputSample) ?? false
        downsamplePadding = try c.decodeIfPresent(Int.self, forKey: .downsamplePadding) ?? 1
        midBlockScaleFactor = try c.decodeIfPresent(Float.self, forKey: .midBlockScaleFactor) ?? 1
        encoderHidDim = try c.decodeIfPresent(Int.self, forKey: .encoderHidDim)
        // diffusers takes a dimension without a type as text_proj, and refuses a type without a dimension.
        let hidType = try c.decodeIfPresent(String.self, forKey: .encoderHidDimType)
        if let hidType, hidType != "text_proj" { throw unsupported("encoder_hid_dim_type \(hidType) (only text_proj)") }
        if hidType != nil, encoderHidDim == nil {
            throw unsupported("encoder_hid_dim_type text_proj needs encoder_hid_dim")
        }
        if let mid = try c.decodeIfPresent(String.self, forKey: .midBlockType), mid != "UNetMidBlock2DCrossAttn" {
            throw unsupported("mid_block_type \(mid)")
        }
        if let kind = try c.decodeIfPresent(String.self, forKey: .timeEmbeddingType), kind != "positional" {
            throw unsupported("time_embedding_type \(kind)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inChannels, forKey: .inChannels)
        try c.encode(outChannels, forKey: .outChannels)
        try c.encode(blockOutChannels, forKey: .blockOutChannels)
        try c.encode(layersPerBlock, forKey: .layersPerBlock)
        try c.encode(downBlockTypes, forKey: .downBlockTypes)
        try c.encode(upBlockTypes, forKey: .upBlockTypes)
        try c.encode(crossAttentionDim, forKey: .crossAttentionDim)
        try c.encode(heads, forKey: .numAttentionHeads)
        try c.encode(normNumGroups, forKey: .normNumGroups)
        try c.encode(normEps, forKey: .normEps)
        try c.encode(flipSinToCos, forKey: .flipSinToCos)
        try c.encode(freqShift, forKey: .freqShift)
        if spatialInjection { try c.encode(true, forKey: .spatialInjection) }
        // The keys below are written only when they differ from diffusers' defaults (older configs stay as they were).
        if transformerLayersPerBlock.contains(where: { $0 != 1 }) {
            try c.encode(transformerLayersPerBlock, forKey: .transformerLayersPerBlock)
        }
        if useLinearProjection { try c.encode(true, forKey: .useLinearProjection) }
        if actFn != .silu { try c.encode(actFn, forKey: .actFn) }
        if centerInputSample { try c.encode(true, forKey: .centerInputSample) }
        if downsamplePadding != 1 { try c.encode(downsamplePadding, forKey: .downsamplePadding) }
        if midBlockScaleFactor != 1 { try c.encode(midBlockScaleFactor, forKey: .midBlockScaleFactor) }
        try c.encodeIfPresent(timestepPostAct, forKey: .timestepPostAct)
        try c.encodeIfPresent(timeEmbeddingActFn, forKey: .timeEmbeddingActFn)
        if let encoderHidDim {
            try c.encode(encoderHidDim, forKey: .encoderHidDim)
            try c.encode("text_proj", forKey: .encoderHidDimType)
        }
    }

    static let defaultDown = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    static let defaultUp = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]

    /// Decodes and validates a diffusers-style JSON configuration; `source` names the file in errors.
    public static func decode(json: String, source: String) throws -> UNet2DConditionConfig {
        do {
            try DiffusersConfigKeys.check(
                json: json, rules: DiffusersConfigKeys.unet, component: "UNet2DConditionModel")
            let config = try JSONDecoder().decode(UNet2DConditionConfig.self, from: Data(json.utf8))
            try config.validate()
            return config
        } catch {
            throw DiffusionError.invalidConfiguration(
                component: "UNet2DCondition config in \(source)",
                detail: "\(error)")
        }
    }

    /// Whether down block i / up block i has cross-attention transformers.
    var downHasAttention: [Bool] { downBlockTypes.map { $0 == "CrossAttnDownBlock2D" } }
    var upHasAttention: [Bool] { upBlockTypes.map { $0 == "CrossAttnUpBlock2D" } }

    /// The cross-attention of down block i (up block i counts from the bottom, `up: true`; the mid block is the last).
    func crossAttention(_ i: Int, up: Bool = false) -> CrossAttentionShape {
        let j = up ? blockOutChannels.count - 1 - i : i
        return CrossAttentionShape(
            heads: heads[j], dim: crossAttentionDim,
            layers: transformerLayersPerBlock.isEmpty ? 1 : transformerLayersPerBlock[j],
            linearProjection: useLinearProjection)
    }

    func validate() throws {
        let n = blockOutChannels.count
        guard normNumGroups >= 1 else { throw unsupported("norm_num_groups must be ≥ 1, is \(normNumGroups)") }
        try ConvNetBounds.check(
            component: "UNet2DConditionModel", channels: blockOutChannels, layersPerBlock: layersPerBlock,
            sizes: [
                ("in_channels", inChannels), ("out_channels", outChannels), ("cross_attention_dim", crossAttentionDim),
                ("encoder_hid_dim", conditionWidth),
            ])
        guard n >= 1, blockOutChannels.allSatisfy({ $0 > 0 && $0 % normNumGroups == 0 }) else {
            throw unsupported(
                "block_out_channels \(blockOutChannels) must be positive multiples of norm_num_groups "
                    + "\(normNumGroups)")
        }
        guard downBlockTypes.count == n, upBlockTypes.count == n, heads.count == n,
            transformerLayersPerBlock.isEmpty || transformerLayersPerBlock.count == n
        else {
            throw unsupported(
                "down_block_types, up_block_types, attention heads and transformer_layers_per_block need \(n) "
                    + "entries each")
        }
        guard transformerLayersPerBlock.allSatisfy({ (1...64).contains($0) }), (0...1).contains(downsamplePadding),
            midBlockScaleFactor > 0
        else {
            throw unsupported(
                "transformer_layers_per_block \(transformerLayersPerBlock) must be in 1...64, downsample_padding "
                    + "\(downsamplePadding) 0 or 1, the scale factors positive")
        }
        for t in downBlockTypes where t != "DownBlock2D" && t != "CrossAttnDownBlock2D" {
            throw unsupported("down block type \(t)")
        }
        for t in upBlockTypes where t != "UpBlock2D" && t != "CrossAttnUpBlock2D" {
            throw unsupported("up block type \(t)")
        }
        for (c, h) in zip(blockOutChannels, heads) where h <= 0 || c % h != 0 {
            throw unsupported("\(c) channels are not divisible by \(h) heads")
        }
        guard layersPerBlock >= 1, inChannels >= 1, outChannels >= 1, crossAttentionDim >= 1, conditionWidth >= 1
        else {
            throw unsupported(
                "layers_per_block, in/out_channels, cross_attention_dim and encoder_hid_dim must be ≥ 1")
        }
    }
}

private func unsupported(_ detail: String) -> DiffusionError {
    .invalidConfiguration(component: "UNet2DConditionModel", detail: detail)
}
