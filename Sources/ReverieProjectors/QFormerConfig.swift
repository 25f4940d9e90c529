// port of transformers/models/blip_2/configuration_blip_2.py (Blip2QFormerConfig)
import ReverieIO
import ReverieNN

/// The hyper-parameters of a BLIP-2 Q-Former, named as Hugging Face's `Blip2QFormerConfig` (query path only:
/// `use_qformer_text_input` must be false).
public struct QFormerConfig: Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// Layers 0, f, 2f, … cross-attend to the image features.
    public var crossAttentionFrequency: Int
    /// Width of the image features the cross-attention reads.
    public var encoderHiddenSize: Int
    public var layerNormEps: Float
    public var hiddenAct: Activation

    public init(
        hiddenSize: Int = 768, intermediateSize: Int = 3072, numHiddenLayers: Int = 12,
        numAttentionHeads: Int = 12, crossAttentionFrequency: Int = 2, encoderHiddenSize: Int = 1408,
        layerNormEps: Float = 1e-12, hiddenAct: Activation = .gelu
    ) {
        (self.hiddenSize, self.intermediateSize, self.numHiddenLayers) = (hiddenSize, intermediateSize, numHiddenLayers)
        (self.numAttentionHeads, self.crossAttentionFrequency) = (numAttentionHeads, crossAttentionFrequency)
        (self.encoderHiddenSize, self.layerNormEps, self.hiddenAct) = (encoderHiddenSize, layerNormEps, hiddenAct)
    }

    /// Reads a `Blip2QFormerConfig` `config.json`, or the `qformer_config` of a full `Blip2Config`.
    public init(huggingFace file: HFConfigFile) throws {
        let config = try file.object("qformer_config") ?? file
        let actName = try config.string("hidden_act", default: "gelu")
        guard let act = Activation(huggingFaceName: actName) else {
            throw config.invalid("hidden_act", "'\(actName)' is not a supported activation")
        }
        guard try !config.bool("use_qformer_text_input", default: false) else {
            throw config.invalid("use_qformer_text_input", "the text path of the Q-Former is not supported")
        }
        self.init(
            hiddenSize: try config.int("hidden_size", default: 768),
            intermediateSize: try config.int("intermediate_size", default: 3072),
            numHiddenLayers: try config.int("num_hidden_layers", default: 12),
            numAttentionHeads: try config.int("num_attention_heads", default: 12),
            crossAttentionFrequency: try config.int("cross_attention_frequency", default: 2),
            encoderHiddenSize: try config.int("encoder_hidden_size", default: 1408),
            layerNormEps: Float(try config.double("layer_norm_eps", default: 1e-12)), hiddenAct: act)
        try validate(file: config.url.path)
    }

    /// Checks sizes and divisibility; `file` is named in the error.
    public func validate(file: String = "QFormerConfig") throws {
        let positive: [(String, Int)] = [
            ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
            ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
            ("cross_attention_frequency", crossAttentionFrequency), ("encoder_hidden_size", encoderHiddenSize),
        ]
        for (key, value) in positive where value <= 0 {
            throw SafetensorsError.badConfig(path: file, key: key, detail: "must be positive, is \(value)")
        }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw SafetensorsError.badConfig(
                path: file, key: "num_attention_heads", detail: "\(numAttentionHeads) does not divide \(hiddenSize)")
        }
    }
}
