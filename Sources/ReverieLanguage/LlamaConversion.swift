import Foundation
import ReverieCore
import ReverieIO
import ReverieNN

extension LanguageModel {
    /// The Hugging Face class names `convertHuggingFace(directory:)` accepts (`architectures[0]` of config.json).
    public static let huggingFaceArchitectures: Set<String> = ["LlamaForCausalLM"]

    /// Imports a Hugging Face `LlamaForCausalLM` directory (config.json + model.safetensors or a sharded index) as a
    /// Reverie checkpoint: every parameter under its HF key, shapes checked against config.json, and the
    /// `model_config` attribute set to the text of config.json. A tied model gets no `lm_head.weight`.
    ///
    /// - Throws: `SafetensorsError` naming the file and the key or tensor at fault (unsupported architecture, bad
    ///   config, missing or mis-shaped tensor, truncated file, bad header).
    public static func convertHuggingFace(directory: URL) throws -> Checkpoint {
        let configFile = try HFConfigFile(url: directory)
        if let architecture = configFile.architecture, !huggingFaceArchitectures.contains(architecture) {
            let supported = huggingFaceArchitectures.sorted().joined(separator: ", ")
            throw configFile.invalid("architectures", "'\(architecture)' is not \(supported)")
        }
        let config = try LlamaConfig(huggingFace: configFile)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        // The shapes (not the values) of a model built from the config are the reference for the checkpoint.
        var rng = RNG(seed: 0)
        let state = try LanguageModel(config: config, rng: &rng).huggingFaceStateDict(from: checkpoint)
        var out = Checkpoint(model: state)
        out.modelConfig = configFile.text
        return out
    }

    /// Builds a model from a Reverie checkpoint written by `convertHuggingFace` (or by training): the architecture
    /// from its `model_config` attribute, the weights from its model section (strict: every key, exact shapes).
    /// - prefix: where the language model's keys start in a composed checkpoint (for example `llm`); empty for a
    ///   converted one.
    public static func load(checkpoint url: URL, prefix: String = "") throws -> LanguageModel {
        let config = try LlamaConfig(huggingFace: Checkpoint.readModelConfig(from: url))
        var rng = RNG(seed: 0)
        let model = try LanguageModel(config: config, rng: &rng)
        try model.loadCheckpointTensors(Checkpoint.readModel(from: url, prefix: prefix), file: url.path)
        return model
    }
}

extension Module {
    /// Strictly loads `state` (keys relative to this module) into the parameters, errors naming `file`.
    func loadCheckpointTensors(_ state: [String: Tensor], file: String) throws {
        var params: [String: Tensor] = [:]
        for (key, tensor, _) in namedTensors() { params[key] = tensor }
        try ReverieIO.loadStateDict(state, into: params, strict: true, file: file)
    }
}
