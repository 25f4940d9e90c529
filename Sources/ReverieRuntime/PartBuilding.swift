import ReverieCore
import ReverieDiffusion
import ReverieLanguage
import ReverieNN
import ReverieProjectors
import ReverieVision

/// Builds each part from its configuration (fresh weights from the given seeded generator).
public enum PartBuilding {
    public static func vision(_ p: VisionPart, rng: inout RNG) throws -> VisionEncoder {
        try VisionEncoder(config: p.encoderConfig, rng: &rng)
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
        if let lora = p.lora {
            var g = rng.forKey("lora")
            do { try lora.attach(to: model, rng: &g) } catch let e as ConfigurationError {
                throw ConfigurationError(key: "lora.\(e.key)", e.message)
            }
        }
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
