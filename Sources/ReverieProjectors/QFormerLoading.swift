import Foundation
import ReverieCore
import ReverieIO
import ReverieNN

extension QFormer {
    /// Hugging Face class names `convertHuggingFace(directory:)` accepts.
    public static let huggingFaceArchitectures: Set<String> = ["Blip2QFormerModel"]

    /// The parameters of a Hugging Face `Blip2QFormerModel` directory under this module's keys (HF's), shapes
    /// checked against config.json, with config.json's text as `model_config`: what `reverie convert` writes.
    public static func convertHuggingFace(directory: URL) throws -> Checkpoint {
        let file = try HFConfigFile(url: directory)
        if let architecture = file.architecture, !huggingFaceArchitectures.contains(architecture) {
            throw file.invalid("architectures", "'\(architecture)' is not Blip2QFormerModel")
        }
        let config = try QFormerConfig(huggingFace: file)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        var rng = RNG(seed: 0)
        let reference = try QFormer(config: config, rng: &rng)
        var out = Checkpoint(
            model: try checkpoint.stateDict(
                expected: reference.namedTensors().map { ($0.key, $0.tensor.shape) }, owner: "Blip2QFormerModel"))
        out.modelConfig = file.text
        return out
    }

    /// A Q-Former loaded from a Hugging Face `Blip2QFormerModel` directory (strict).
    public static func load(huggingFaceDirectory directory: URL) throws -> QFormer {
        let converted = try convertHuggingFace(directory: directory)
        var rng = RNG(seed: 0)
        let qformer = try QFormer(config: QFormerConfig(huggingFace: HFConfigFile(url: directory)), rng: &rng)
        try qformer.loadStateDict(converted.model, strict: true)
        return qformer
    }
}

extension QFormer {
    /// Builds a Q-Former from a Reverie checkpoint written by `convertHuggingFace`: the architecture from its
    /// `model_config` attribute, the weights (strict) from its model section under `prefix`.
    public static func load(checkpoint url: URL, prefix: String = "") throws -> QFormer {
        let config = try QFormerConfig(huggingFace: Checkpoint.readModelConfig(from: url))
        var rng = RNG(seed: 0)
        let qformer = try QFormer(config: config, rng: &rng)
        var params: [String: Tensor] = [:]
        for (key, tensor, _) in qformer.namedTensors() { params[key] = tensor }
        try ReverieIO.loadStateDict(
            Checkpoint.readModel(from: url, prefix: prefix), into: params, strict: true,
            file: url.path)
        return qformer
    }
}
