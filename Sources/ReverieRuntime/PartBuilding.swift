import ReverieCore
import ReverieDiffusion
import ReverieLanguage
import ReverieNN
import ReverieProjectors
import ReverieVision

/// Builds each part from its configuration (fresh weights from the given seeded generator).
public enum PartBuilding {
    public static func vision(_ p: VisionPart, rng: inout RNG) throws -> VisionEncoder {
        let encoder = try VisionEncoder(config: p.encoderConfig, rng: &rng)
        try attach(p.lora, to: encoder, rng: &rng)
        return encoder
    }

    /// LoRA adapters on `module`, from their own generator (the part's weights draw as they would without them).
    public static func attach(_ lora: LoRAOptions?, to module: Module, rng: inout RNG) throws {
        guard let lora else { return }
        var g = rng.forKey("lora")
        do { try lora.attach(to: module, rng: &g) } catch let e as ConfigurationError {
            throw ConfigurationError(key: "lora.\(e.key)", e.message)
        }
    }

    public static func vae(_ p: VAEPart, rng: inout RNG) throws -> AutoencoderKL {
        try AutoencoderKL(config: p.autoencoderConfig, rng: &rng)
    }

    public static func unet(_ p: UNetPart, latentChannels: Int, conditionDim: Int, rng: inout RNG) throws
        -> UNet2DConditionModel
    {
        try UNet2DConditionModel(
            config: p.unetConfig(latentChannels: latentChannels, conditionDim: conditionDim), rng: &rng)
    }

    public static func decoder(vae: AutoencoderKL, unet: UNet2DConditionModel, _ p: UNetPart, conditionDim: Int)
        throws -> LatentDiffusionDecoder
    {
        let schedule = try NoiseSchedule(
            trainTimesteps: p.trainTimesteps, betaSchedule: p.betaSchedule,
            betaStart: Float(p.betaStart), betaEnd: Float(p.betaEnd))
        let null = try NullCondition(kind: p.null, tokens: p.conditionTokens, dim: conditionDim)
        return try LatentDiffusionDecoder(
            vae: vae, unet: unet, nullCondition: null, schedule: schedule,
            prediction: p.prediction, spatialConditions: p.spatialConditioning,
            sourceLatents: p.sourceLatent)
    }

    public static func projector(_ p: ProjectorPart, vision: VisionPart, llm: LLMPart, rng: inout RNG) throws
        -> any Projector
    {
        try ProjectorRegistry.make(
            type: p.type, options: p.options,
            dimensions: ProjectorDimensions(
                inputDim: vision.hidden, outputDim: llm.hidden,
                patches: vision.grid * vision.grid),
            rng: &rng)
    }

    public static func llm(_ p: LLMPart, rng: inout RNG) throws -> LanguageModel {
        let model = try LanguageModel(config: p.llamaConfig, rng: &rng)
        try attach(p.lora, to: model, rng: &rng)
        return model
    }
}

/// A module that only names its children, for models that are a set of parts (keys as in `PartName`).
public final class PartsContainer: Module {
    let named: [(String, Module)]
    public init(_ named: [(String, Module)]) {
        self.named = named
        super.init()
    }

    override public func visit(_ v: inout ModuleVisitor) {
        for (n, m) in named { v.child(n, m) }
    }
}
