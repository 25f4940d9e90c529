// port of transformers/models/siglip/configuration_siglip.py (SiglipVisionConfig)
import ReverieIO
import ReverieNN

/// The hyper-parameters of a SigLIP-style ViT, named as Hugging Face's `SiglipVisionConfig`.
public struct VisionEncoderConfig: Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numChannels: Int
    public var imageSize: Int
    public var patchSize: Int
    public var layerNormEps: Float
    /// The MLP activation (`hidden_act`, SigLIP: `gelu_pytorch_tanh`).
    public var hiddenAct: Activation
    /// Whether the multihead-attention pooling head (`head.*`) exists.
    public var useHead: Bool

    public init(
        hiddenSize: Int = 768, intermediateSize: Int = 3072, numHiddenLayers: Int = 12,
        numAttentionHeads: Int = 12, numChannels: Int = 3, imageSize: Int = 224, patchSize: Int = 16,
        layerNormEps: Float = 1e-6, hiddenAct: Activation = .geluTanh, useHead: Bool = true
    ) {
        (self.hiddenSize, self.intermediateSize, self.numHiddenLayers) = (hiddenSize, intermediateSize, numHiddenLayers)
        (self.numAttentionHeads, self.numChannels, self.imageSize) = (numAttentionHeads, numChannels, imageSize)
        (self.patchSize, self.layerNormEps) = (patchSize, layerNormEps)
        (self.hiddenAct, self.useHead) = (hiddenAct, useHead)
    }

    /// Patches per image side.
    public var gridSize: Int { imageSize / patchSize }
    /// Patches per image (= positions).
    public var numPatches: Int { gridSize * gridSize }

    /// Reads a `SiglipVisionConfig` `config.json`, or the `vision_config` of a full `SiglipModel` config.
    public init(huggingFace file: HFConfigFile) throws {
        let config = try file.object("vision_config") ?? file
        let actName = try config.string("hidden_act", default: "gelu_pytorch_tanh")
        guard let act = Activation(huggingFaceName: actName) else {
            throw config.invalid("hidden_act", "'\(actName)' is not a supported activation")
        }
        self.init(
            hiddenSize: try config.int("hidden_size", default: 768),
            intermediateSize: try config.int("intermediate_size", default: 3072),
            numHiddenLayers: try config.int("num_hidden_layers", default: 12),
            numAttentionHeads: try config.int("num_attention_heads", default: 12),
            numChannels: try config.int("num_channels", default: 3),
            imageSize: try config.int("image_size", default: 224), patchSize: try config.int("patch_size", default: 16),
            layerNormEps: Float(try config.double("layer_norm_eps", default: 1e-6)), hiddenAct: act,
            useHead: try config.bool("vision_use_head", default: true))
        try validate(file: config.url.path)
    }

    /// Checks sizes and divisibility; `file` is named in the error.
    public func validate(file: String = "VisionEncoderConfig") throws {
        func bad(_ key: String, _ detail: String) -> SafetensorsError {
            .badConfig(path: file, key: key, detail: detail)
        }
        let positive: [(String, Int)] = [
            ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
            ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
            ("num_channels", numChannels), ("image_size", imageSize), ("patch_size", patchSize),
        ]
        for (key, value) in positive where value <= 0 { throw bad(key, "must be positive, is \(value)") }
        let b = ConfigBounds.self
        try b.check(
            [
                ("hidden_size", hiddenSize, 1...b.maxWidth),
                ("intermediate_size", intermediateSize, 1...b.maxIntermediate),
                ("num_hidden_layers", numHiddenLayers, 1...b.maxLayers),
                ("num_attention_heads", numAttentionHeads, 1...max(1, hiddenSize)),
                ("num_channels", numChannels, 1...16),
                ("image_size", imageSize, 1...b.maxImageSize), ("patch_size", patchSize, 1...max(1, imageSize)),
            ], file: file)
        let (h, patches) = (Double(hiddenSize), Double(imageSize / patchSize) * Double(imageSize / patchSize))
        try b.checkMemory(
            parameters: Double(numHiddenLayers) * (4 * h * h + 2 * h * Double(intermediateSize)) + patches * h,
            file: file)
        guard hiddenSize % numAttentionHeads == 0 else {
            throw bad("num_attention_heads", "\(numAttentionHeads) does not divide hidden_size \(hiddenSize)")
        }
        guard imageSize % patchSize == 0 else {
            throw bad("patch_size", "\(patchSize) does not divide image_size \(imageSize)")
        }
    }
}
