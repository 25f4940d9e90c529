import ReverieCore
import ReverieDiffusion
import ReverieLanguage
import ReverieNN
import ReverieProjectors
import ReverieVision

@testable import ReverieMultimodal

/// Special ids of the tiny test vocabulary.
enum TinyVocab {
    static let pad = 0, eos = 1, image = 2, imageBegin = 3
}

/// A tiny model: 64×64 images, 16-px patches (4 × 4 grid), a 1-layer width-32 encoder, an MLP projector to
/// width 48, a 2-layer Llama, K = 4 queries and an MLP head into Dc = 32.
func makeTinyModel(
    vocab: Int = 40, projector kind: String = "mlp", head: OutputHeadKind = .mlp,
    mode: OutputImageMode = .queries, seed: UInt64 = 1, visualPositions: VisualPositionKind = .none,
    residual: Bool = false, sourceQueries: Bool = false, queries: Int = 4,
    changeHead: Bool = false, describeEdits: Bool = false
) throws -> MultimodalModel {
    var rng = RNG(seed: seed)
    let vision = try VisionEncoder(
        config: VisionEncoderConfig(
            hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1, numAttentionHeads: 2,
            imageSize: 64, patchSize: 16, useHead: false),
        rng: &rng)
    let projector = try ProjectorRegistry.make(
        type: kind, dimensions: ProjectorDimensions(inputDim: 32, outputDim: 48, patches: 16), rng: &rng)
    let llm = try LanguageModel(
        config: LlamaConfig(
            vocabSize: vocab, hiddenSize: 48, intermediateSize: 96, numHiddenLayers: 2,
            numAttentionHeads: 4, maxPositionEmbeddings: 256),
        rng: &rng)
    var config = MultimodalConfig(
        imageTokenId: TinyVocab.image, imageBeginTokenId: TinyVocab.imageBegin,
        outputMode: mode, numQueries: queries, head: head, headHidden: 64,
        visualPositions: visualPositions, residualConditions: residual,
        sourceQueries: sourceQueries)
    config.changeHead = changeHead
    config.describeEdits = describeEdits
    return try MultimodalModel(config: config, visionEncoder: vision, projector: projector, llm: llm, rng: &rng)
}

/// A deterministic image [3, 64, 64] in [0, 1].
func tinyImage(seed: UInt64) -> Tensor {
    var rng = RNG(seed: seed)
    let t = Tensor(uninitialized: [3, 64, 64])
    for i in 0..<t.count { t.pointer[i] = Float.random(in: 0..<1, using: &rng) }
    return t
}

/// A tiny frozen decoder (f = 2 VAE with 2 latent channels, 2-level UNet) conditioned on `conditionDim`-wide tokens.
func tinyDecoder(conditionDim: Int, sourceLatents: Bool = false) throws -> LatentDiffusionDecoder {
    var rng = RNG(seed: 9)
    let vae = try AutoencoderKL(
        config: AutoencoderKLConfig(
            blockOutChannels: [8, 16], layersPerBlock: 1, latentChannels: 2, normNumGroups: 4), rng: &rng)
    let unet = try UNet2DConditionModel(
        config: UNet2DConditionConfig(
            inChannels: sourceLatents ? 4 : 2, outChannels: 2, blockOutChannels: [8, 16], layersPerBlock: 1,
            downBlockTypes: ["CrossAttnDownBlock2D", "DownBlock2D"], upBlockTypes: ["UpBlock2D", "CrossAttnUpBlock2D"],
            crossAttentionDim: conditionDim, heads: [2, 2], normNumGroups: 4), rng: &rng)
    return try LatentDiffusionDecoder(
        vae: vae, unet: unet,
        nullCondition: NullCondition(kind: .zeros, tokens: 4, dim: conditionDim),
        schedule: NoiseSchedule(), sourceLatents: sourceLatents)
}

/// `base`'s parts over a tiny decoder on the encoder's 32-wide features.
func withTinyDecoder(_ base: MultimodalModel, sourceLatents: Bool = false, rng: inout RNG) throws -> MultimodalModel {
    try MultimodalModel(
        config: base.config, visionEncoder: base.visionEncoder, projector: base.projector,
        llm: base.llm, decoder: tinyDecoder(conditionDim: 32, sourceLatents: sourceLatents),
        rng: &rng)
}
