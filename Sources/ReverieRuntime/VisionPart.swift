import ReverieCore
import ReverieNN
import ReverieVision

/// SigLIP-style ViT (no pooling head: the model uses patch features).
public struct VisionPart: Codable, Sendable, Equatable, SelfChecking, TransformerShaped {
    public var hidden = 64, intermediate = 128, layers = 2, heads = 4, imageSize = 64, patch = 8
    /// SigLIP's `layer_norm_eps` and `hidden_act`.
    public var normEps: Float = 1e-6
    public var activation = Activation.geluTanh
    /// LoRA adapters on the encoder's linear layers (`q_proj`, `k_proj`, `v_proj`, `out_proj`, `fc1`, `fc2`); its
    /// own weights then stay frozen.
    public var lora: LoRAOptions?

    enum CodingKeys: String, CodingKey {
        case hidden, intermediate, layers, heads
        case imageSize = "image_size"
        case patch
        case normEps = "layer_norm_eps"
        case activation = "hidden_act"
        case lora
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try updateShape(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&imageSize, .imageSize)
        try c.update(&patch, .patch)
        try c.update(&normEps, .normEps)
        try c.update(&activation, .activation)
        lora = try c.decodeIfPresent(LoRAOptions.self, forKey: .lora)
    }

    /// The most patches per image a recipe may ask for (64 × 64).
    public static let mostPatches = 4096

    public func validate() throws {
        try validateShape()
        try require(imageSize, in: 1...4096, "image_size")
        try require(patch, in: 1...imageSize, "patch")
        try require(imageSize % patch == 0, "patch", "\(patch) does not divide image_size \(imageSize)")
        // Attention holds patches² scores per head and layer: 64 × 64 patches already take 64 MB each.
        let patches = (imageSize / patch) * (imageSize / patch)
        try require(
            patches <= Self.mostPatches, "patch",
            "\(patch) cuts image_size \(imageSize) into \(patches) patches; at most \(Self.mostPatches) (a larger patch)"
        )
        do { try lora?.validate() } catch let e as ConfigurationError { throw e.nested(under: "lora") }
    }

    /// Patches per side.
    public var grid: Int { imageSize / patch }

    /// The encoder's configuration (SigLIP's, without the pooling head).
    public var encoderConfig: VisionEncoderConfig {
        VisionEncoderConfig(
            hiddenSize: hidden, intermediateSize: intermediate, numHiddenLayers: layers, numAttentionHeads: heads,
            imageSize: imageSize, patchSize: patch, layerNormEps: normEps, hiddenAct: activation, useHead: false)
    }
}
