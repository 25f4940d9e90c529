import Foundation
import ReverieData
import ReverieMultimodal

/// The configurable parts of a Reverie model, as a recipe names them under `model:` and as a checkpoint's
/// `model_config` stores them (JSON), so a later stage or command rebuilds exactly what was trained.
///
/// Each part owns fixed parameter-key prefixes (`vision` → `vision_encoder.…`), the same in every stage, so any
/// part can be initialised from any checkpoint that holds it.
public enum PartName: String, CaseIterable, Codable, Sendable {
    case vision, text, vae, unet, projector, llm, output

    /// Key prefixes of the part's tensors.
    public var prefixes: [String] {
        switch self {
        case .vision: return ["vision_encoder"]
        case .text: return ["text_tower", "image_projection", "logit_scale", "logit_bias", "patch_head",
                              "patch_color_head"]
        case .vae: return ["decoder.vae"]
        case .unet: return ["decoder.unet", "decoder.null_condition"]
        case .projector: return ["projector", "visual_positions"]
        case .llm: return ["llm"]
        case .output: return ["output_queries", "condition_input", "output_head", "source_input", "change_head"]
        }
    }

    /// Whether `key` belongs to this part.
    public func owns(_ key: String) -> Bool {
        prefixes.contains { key == $0 || key.hasPrefix($0 + ".") }
    }
}

extension RecipeSection {
    /// `hidden`, `intermediate`, `layers`, `heads` of a transformer (defaults given), with heads dividing hidden.
    func transformerShape(_ d: (Int, Int, Int, Int)) throws -> (Int, Int, Int, Int) {
        let hidden = try int("hidden", default: d.0), heads = try int("heads", default: d.3)
        guard hidden % heads == 0 else { throw error("heads", "hidden \(hidden) is not a multiple of \(heads)") }
        return (hidden, try int("intermediate", default: d.1), try int("layers", default: d.2), heads)
    }
}

/// SigLIP-style ViT (no pooling head: the model uses patch features).
public struct VisionPart: Codable, Sendable, Equatable {
    public var hidden = 64, intermediate = 128, layers = 2, heads = 4, imageSize = 64, patch = 8

    public init() {}

    init(_ s: RecipeSection) throws {
        (hidden, intermediate, layers, heads) = try s.transformerShape((hidden, intermediate, layers, heads))
        imageSize = try s.int("image_size", default: imageSize)
        patch = try s.int("patch", default: patch)
        guard imageSize % patch == 0 else { throw s.error("patch", "\(patch) does not divide image_size \(imageSize)") }
    }

    public var grid: Int { imageSize / patch }
}

/// The small text tower of the contrastive (siglip) stage.
public struct TextPart: Codable, Sendable, Equatable {
    public var hidden = 64, intermediate = 128, layers = 2, heads = 4, maxPositions = 128, projection = 64

    public init() {}

    init(_ s: RecipeSection) throws {
        (hidden, intermediate, layers, heads) = try s.transformerShape((hidden, intermediate, layers, heads))
        maxPositions = try s.int("max_positions", default: maxPositions)
        projection = try s.int("projection", default: projection)
    }
}

/// AutoencoderKL: `channels` per block (each block after the first halves the resolution).
public struct VAEPart: Codable, Sendable, Equatable {
    public var channels = [32, 64], layersPerBlock = 1, latentChannels = 4, normGroups = 8
    public var scalingFactor = 1.0
    public var attention = false

    public init() {}

    init(_ s: RecipeSection) throws {
        channels = try s.ints("channels") ?? channels
        layersPerBlock = try s.int("layers_per_block", default: layersPerBlock)
        latentChannels = try s.int("latent_channels", default: latentChannels)
        normGroups = try s.int("norm_groups", default: normGroups)
        scalingFactor = try s.double("scaling_factor", default: scalingFactor)
        attention = try s.bool("attention", default: attention)
        guard !channels.isEmpty else { throw s.error("channels", "needs at least one block") }
        if let c = channels.first(where: { $0 % normGroups != 0 }) {
            throw s.error("norm_groups", "\(normGroups) does not divide channel count \(c)")
        }
    }

    public var downsampling: Int { 1 << (channels.count - 1) }
}

/// The conditional UNet of the decoder; its cross-attention width is the vision encoder's width.
public struct UNetPart: Codable, Sendable, Equatable {
    public var channels = [64, 128], layersPerBlock = 1, heads = 4, normGroups = 8
    /// Condition tokens: the encoder's patch grid average-pooled to √tokens × √tokens.
    public var conditionTokens = 16
    /// `epsilon`, `v_prediction` or `sample` (x0) under DDPM, and the training schedule length.
    public var prediction = "epsilon"
    public var trainTimesteps = 1000
    public var betaSchedule = "scaled_linear"
    /// `learned` or `zeros`.
    public var null = "learned"
    /// Also feed the conditions as input channels laid on the latent grid (`spatialConditionMap`).
    public var spatial = false
    /// Per level: cross-attention blocks (true) or plain resnet blocks (false); empty = attention everywhere.
    public var attention: [Bool] = []
    /// Also take a source image's latent as input channels (editing); nil in checkpoints made before the option.
    public var sourceLatent: Bool?
    /// Also add the conditions, laid on each level's grid, before every UNet block (`ConditionInjection`); nil in
    /// checkpoints made before the option.
    public var spatialInjection: Bool?

    public init() {}

    init(_ s: RecipeSection) throws {
        channels = try s.ints("channels") ?? channels
        layersPerBlock = try s.int("layers_per_block", default: layersPerBlock)
        heads = try s.int("heads", default: heads)
        normGroups = try s.int("norm_groups", default: normGroups)
        conditionTokens = try s.int("condition_tokens", default: conditionTokens)
        prediction = try s.choice("prediction", ["epsilon", "v_prediction", "sample"], default: prediction)
        trainTimesteps = try s.int("train_timesteps", default: trainTimesteps)
        betaSchedule = try s.choice("beta_schedule", ["linear", "scaled_linear", "squaredcos_cap_v2"],
                                    default: betaSchedule)
        null = try s.choice("null", ["learned", "zeros"], default: null)
        spatial = try s.bool("spatial_conditioning", default: spatial)
        sourceLatent = try s.bool("source_latent", default: false)
        spatialInjection = try s.bool("spatial_injection", default: false)
        attention = try s.list("attention", "true or false") { ["true": true, "false": false][$0.lowercased()] }
            ?? attention
        guard attention.isEmpty || attention.count == channels.count else {
            throw s.error("attention", "needs one entry per level of channels (\(channels.count))")
        }
        guard !channels.isEmpty else { throw s.error("channels", "needs at least one block") }
        if let c = channels.first(where: { $0 % normGroups != 0 }) {
            throw s.error("norm_groups", "\(normGroups) does not divide channel count \(c)")
        }
        let side = Int(Double(conditionTokens).squareRoot().rounded())
        guard side * side == conditionTokens else { throw s.error("condition_tokens", "must be a square") }
    }
}

/// A projector: `type` plus the kind's own options (checked by the projector registry).
public struct ProjectorPart: Codable, Sendable, Equatable {
    public var type = "mlp"
    public var options: [String: Double] = [:]
    public var stringOptions: [String: String] = [:]
    /// Learned positions added to the visual tokens: `none`, `token` (one per token) or `grid` (rows + columns).
    public var positions = "none"

    public init() {}

    init(_ s: RecipeSection) throws {
        type = try s.string("type", default: type)
        positions = try s.choice("positions", VisualPositionKind.allCases.map(\.rawValue), default: positions)
        for key in s.keys where !["type", "init", "positions"].contains(key) {
            if let d = try? s.double(key) { options[key] = d } else { stringOptions[key] = try s.string(key) }
        }
    }
}

/// The Llama-style language model and its tokenizer: `bytes` (one id per UTF-8 byte, vocabulary 260) or a
/// byte-level BPE tokenizer read from a tokenizer.json file. A checkpoint stores `bpe` here and the file's text
/// as its `tokenizer` attribute, so the model travels with its vocabulary.
public struct LLMPart: Codable, Sendable, Equatable {
    public var hidden = 128, intermediate = 256, layers = 2, heads = 4, kvHeads = 2, maxPositions = 512
    public var vocab = 260
    /// `bytes` or `bpe`.
    public var tokenizer = "bytes"
    /// The BPE tokenizer's JSON (not part of `model_config`: stored as the checkpoint's `tokenizer` attribute).
    public var tokenizerJSON: String?

    enum CodingKeys: String, CodingKey {
        case hidden, intermediate, layers, heads, kvHeads, maxPositions, vocab, tokenizer
    }

    public init() {}

    init(_ s: RecipeSection) throws {
        (hidden, intermediate, layers, heads) = try s.transformerShape((hidden, intermediate, layers, heads))
        kvHeads = try s.int("kv_heads", default: kvHeads)
        maxPositions = try s.int("max_positions", default: maxPositions)
        let file = try s.string("tokenizer", default: tokenizer)
        if file != "bytes" {
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                let encoder = try TokenizerTextEncoder(try Tokenizer(json: data, path: file))
                (tokenizer, tokenizerJSON, vocab) = ("bpe", String(decoding: data, as: UTF8.self),
                                                     encoder.vocabularySize)
            } catch {
                throw s.error("tokenizer", "'bytes' or a tokenizer.json file: \(error)")
            }
        }
        let minimum = vocab
        vocab = try s.int("vocab", default: vocab)
        guard vocab >= minimum else { throw s.error("vocab", "\(vocab) is below the tokenizer's \(minimum) ids") }
        guard heads % kvHeads == 0 else { throw s.error("kv_heads", "\(kvHeads) does not divide heads \(heads)") }
        guard (hidden / heads) % 2 == 0 else { throw s.error("heads", "head width must be even for RoPE") }
    }

    /// The text encoder this model reads and writes with.
    public func textEncoder() throws -> any TextEncoder {
        guard tokenizer == "bpe" else { return ByteTextEncoder() }
        guard let json = tokenizerJSON else {
            throw MultimodalError.invalidConfiguration(key: "llm.tokenizer", detail: "bpe, but no tokenizer.json text")
        }
        return try TokenizerTextEncoder(try Tokenizer(json: Data(json.utf8), path: "tokenizer"))
    }
}

/// How the LLM writes images: `queries` or `autoregressive`, K condition tokens, and the head.
public struct OutputPart: Codable, Sendable, Equatable {
    public var mode = "queries"
    public var head = "mlp"
    public var headHidden = 256
    /// An output image after another image predicts the change of that image's conditions (queries mode).
    public var residual = false
    /// Queries that also read the conditions of the image they follow (queries mode); nil in checkpoints made
    /// before the option.
    public var sourceQueries: Bool?
    /// A change head that says which condition tokens an output image changes (queries mode; `ChangeMask`); nil
    /// in checkpoints made before the option.
    public var changeHead: Bool?
    /// Edits describe their result in text before drawing it (`MultimodalConfig.describeEdits`); nil in
    /// checkpoints made before the option.
    public var describeEdits: Bool?

    public init() {}

    init(_ s: RecipeSection) throws {
        mode = try s.choice("mode", ["queries", "autoregressive"], default: mode)
        residual = try s.bool("residual", default: residual)
        guard !residual || mode == "queries" else { throw s.error("residual", "needs mode: queries") }
        sourceQueries = try s.bool("source_queries", default: false)
        guard sourceQueries != true || mode == "queries" else {
            throw s.error("source_queries", "needs mode: queries")
        }
        changeHead = try s.bool("change_head", default: false)
        guard changeHead != true || mode == "queries" else { throw s.error("change_head", "needs mode: queries") }
        describeEdits = try s.bool("describe_edits", default: false)
        head = try s.choice("head", ["linear", "mlp"], default: head)
        headHidden = try s.int("head_hidden", default: headHidden)
    }
}

/// Every part's configuration; absent parts are nil. This is the checkpoint's `model_config` JSON.
public struct ModelParts: Codable, Sendable, Equatable {
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

    /// Reads a part's options from its recipe section.
    mutating func read(_ part: PartName, _ s: RecipeSection) throws {
        switch part {
        case .vision: vision = try VisionPart(s)
        case .text: text = try TextPart(s)
        case .vae: vae = try VAEPart(s)
        case .unet: unet = try UNetPart(s)
        case .projector: projector = try ProjectorPart(s)
        case .llm: llm = try LLMPart(s)
        case .output: output = try OutputPart(s)
        }
    }
}
