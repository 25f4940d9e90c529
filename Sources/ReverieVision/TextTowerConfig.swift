// port of transformers/models/siglip/configuration_siglip.py (SiglipTextConfig)
import ReverieNN

/// The hyper-parameters of a SigLIP-style text tower, named as Hugging Face's `SiglipTextConfig`.
public struct TextTowerConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// Longest token sequence (`max_position_embeddings`).
    public var maxPositions: Int
    /// Size of the shared image-text embedding space (`projection_size`).
    public var projectionDim: Int
    public var layerNormEps: Float
    /// The MLP activation (`hidden_act`, SigLIP: `gelu_pytorch_tanh`).
    public var hiddenAct: Activation

    public init(
        vocabSize: Int = 32000, hiddenSize: Int = 768, intermediateSize: Int = 3072,
        numHiddenLayers: Int = 12, numAttentionHeads: Int = 12, maxPositions: Int = 64,
        projectionDim: Int? = nil, layerNormEps: Float = 1e-6, hiddenAct: Activation = .geluTanh
    ) {
        (self.vocabSize, self.hiddenSize, self.intermediateSize) = (vocabSize, hiddenSize, intermediateSize)
        (self.numHiddenLayers, self.numAttentionHeads, self.maxPositions) =
            (numHiddenLayers, numAttentionHeads, maxPositions)
        (self.projectionDim, self.layerNormEps, self.hiddenAct) = (projectionDim ?? hiddenSize, layerNormEps, hiddenAct)
    }

    /// Checks sizes and divisibility.
    public func validate() throws {
        let positive: [(String, Int)] = [
            ("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
            ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
            ("max_position_embeddings", maxPositions), ("projection_size", projectionDim),
        ]
        for (key, value) in positive where value <= 0 {
            throw ModuleError.invalidConfiguration(module: "TextTower", detail: "\(key) must be positive, is \(value)")
        }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw ModuleError.invalidConfiguration(
                module: "TextTower",
                detail: "num_attention_heads \(numAttentionHeads) does not divide hidden_size \(hiddenSize)")
        }
    }
}
