import ReverieCore
import ReverieData
import ReverieProjectors

/// Every part's configuration; absent parts are nil. This is the checkpoint's `model_config` (`parts`) and what a
/// recipe's `model:` section decodes to.
public struct ModelParts: Codable, Sendable, Equatable, SelfChecking {
    public var vision: VisionPart?
    public var text: TextPart?
    public var vae: VAEPart?
    public var unet: UNetPart?
    public var projector: ProjectorPart?
    public var llm: LLMPart?
    public var output: OutputPart?

    public init() {}

    /// The LLM's text encoder (bytes when there is no LLM part).
    public func textEncoder() throws -> any TextEncoder { try (llm ?? LLMPart()).textEncoder() }

    public func has(_ part: PartName) -> Bool {
        switch part {
        case .vision: return vision != nil
        case .text: return text != nil
        case .vae: return vae != nil
        case .unet: return unet != nil
        case .projector: return projector != nil
        case .llm: return llm != nil
        case .output: return output != nil
        }
    }

    /// The parts that take LoRA adapters.
    public static let adaptable: [PartName] = [.vision, .llm]

    /// The LoRA adapters of `part`, if it has any.
    public func adapters(of part: PartName) -> LoRAOptions? {
        switch part {
        case .llm: return llm?.lora
        case .vision: return vision?.lora
        default: return nil
        }
    }

    /// Sets the LoRA adapters of an adaptable part that is present.
    public mutating func setAdapters(_ lora: LoRAOptions, of part: PartName) {
        switch part {
        case .llm: llm?.lora = lora
        case .vision: vision?.lora = lora
        default: break
        }
    }

    /// Copies `part`'s configuration from `other`.
    public mutating func take(_ part: PartName, from other: ModelParts) {
        switch part {
        case .vision: vision = other.vision
        case .text: text = other.text
        case .vae: vae = other.vae
        case .unet: unet = other.unet
        case .projector: projector = other.projector
        case .llm: llm = other.llm
        case .output: output = other.output
        }
    }

    /// Each present part alone, then the sizes that must agree across parts. Keys are `<part>.<key>`.
    public func validate() throws {
        let alone: [(String, SelfChecking?)] = [
            ("vision", vision), ("text", text), ("vae", vae), ("unet", unet),
            ("projector", projector), ("llm", llm), ("output", output),
        ]
        for case let (name, part?) in alone {
            do { try part.validate() } catch let e as ConfigurationError { throw e.nested(under: name) }
        }
        if let v = vision, let u = unet {
            try require(
                v.grid % u.conditionSide == 0, "unet.condition_tokens",
                "√\(u.conditionTokens) = \(u.conditionSide) does not divide the vision patch grid \(v.grid)")
        }
        if let v = vision, let l = llm, let p = projector {
            do {
                try p.options.validate(
                    dimensions: ProjectorDimensions(
                        inputDim: v.hidden, outputDim: l.hidden,
                        patches: v.grid * v.grid))
            } catch let e as ConfigurationError { throw e.nested(under: "projector") }
        }
    }
}

/// The JSON stored as a checkpoint's `model_config`: the stage that wrote it and every part's configuration.
public struct ModelConfigRecord: Codable, Sendable, Equatable {
    public var format = "reverie-model"
    /// The stage kind that wrote it (`siglip`, `vae`, `decoder`, `mllm`, or a registered one).
    public var stage: String
    public var parts: ModelParts

    public init(stage: String, parts: ModelParts) {
        (self.stage, self.parts) = (stage, parts)
    }
}
