import Foundation
import ReverieCore
import ReverieIO
import ReverieNN

extension VisionEncoder {
    /// Hugging Face class names `convertHuggingFace(directory:)` accepts.
    public static let huggingFaceArchitectures: Set<String> = ["SiglipVisionModel", "SiglipModel"]

    /// Builds an encoder from a Hugging Face `SiglipVisionModel` directory (config.json + safetensors, single or
    /// sharded). Strict: every parameter present with its shape; `vision_model.` prefixes are stripped and the text
    /// tower of a full `SiglipModel` checkpoint is ignored.
    public static func load(huggingFaceDirectory directory: URL) throws -> VisionEncoder {
        let converted = try convertHuggingFace(directory: directory)
        var rng = RNG(seed: 0)
        let config = try VisionEncoderConfig(huggingFace: HFConfigFile(url: directory))
        let encoder = try VisionEncoder(config: config, rng: &rng)
        try encoder.loadStateDict(converted.model, strict: true)
        return encoder
    }

    /// The parameters of a Hugging Face SigLIP directory under this encoder's keys, shapes checked, with the text of
    /// config.json as `model_config`: what `reverie convert` writes.
    public static func convertHuggingFace(directory: URL) throws -> Checkpoint {
        let file = try HFConfigFile(url: directory)
        if let architecture = file.architecture, !huggingFaceArchitectures.contains(architecture) {
            let supported = huggingFaceArchitectures.sorted().joined(separator: ", ")
            throw file.invalid("architectures", "'\(architecture)' is not \(supported)")
        }
        let config = try VisionEncoderConfig(huggingFace: file)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        var rng = RNG(seed: 0)
        let reference = try VisionEncoder(config: config, rng: &rng)
        let prefix = checkpoint.contains("vision_model.embeddings.patch_embedding.weight") ? "vision_model." : ""
        // With the prefix, everything outside vision_model. is SiglipModel's text tower and logit scale.
        var out = Checkpoint(
            model: try checkpoint.stateDict(
                expected: reference.namedTensors().map { ($0.key, $0.tensor.shape) }, owner: "SiglipVisionModel",
                prefix: prefix, ignoring: { !prefix.isEmpty && !$0.hasPrefix(prefix) }))
        out.modelConfig = file.text
        return out
    }
}

extension VisionEncoder {
    /// Builds an encoder from a Reverie checkpoint written by `convertHuggingFace` (or by training): the
    /// architecture from its `model_config` attribute, the weights (strict) from its model section under `prefix`
    /// (for example `encoder` in a composed checkpoint; empty for a converted one).
    public static func load(checkpoint url: URL, prefix: String = "") throws -> VisionEncoder {
        let config = try VisionEncoderConfig(huggingFace: Checkpoint.readModelConfig(from: url))
        var rng = RNG(seed: 0)
        let encoder = try VisionEncoder(config: config, rng: &rng)
        var params: [String: Tensor] = [:]
        for (key, tensor, _) in encoder.namedTensors() { params[key] = tensor }
        try ReverieIO.loadStateDict(
            Checkpoint.readModel(from: url, prefix: prefix), into: params, strict: true,
            file: url.path)
        return encoder
    }
}
