import Foundation
import ReverieCore
import ReverieIO
import ReverieNN

extension LanguageModel {
    /// Builds a model from a Hugging Face `LlamaForCausalLM` directory: `config.json` plus `model.safetensors` or a
    /// sharded `model.safetensors.index.json` (F32, F16 or BF16, widened to Float32).
    ///
    /// Loading is strict: every parameter must be present with its exact shape, and the checkpoint may hold no
    /// other tensor — except `lm_head.weight` in a tied model (some exporters save the tied copy) and the rotary
    /// `inv_freq` buffers older exporters saved. Errors name the file and the tensor.
    public static func load(huggingFaceDirectory directory: URL) throws -> LanguageModel {
        let config = try LlamaConfig(huggingFace: HFConfigFile(url: directory))
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        var rng = RNG(seed: 0)
        let model = try LanguageModel(config: config, rng: &rng)
        try model.loadWeights(from: checkpoint)
        return model
    }

    /// Copies every parameter from `checkpoint` (see `load(huggingFaceDirectory:)` for the rules).
    public func loadWeights(from checkpoint: SafetensorsCheckpoint) throws {
        let state = try huggingFaceStateDict(from: checkpoint)
        try loadStateDict(state, strict: true)
    }

    /// The parameters of this model read from `checkpoint` under their keys, shapes checked: the state dict a
    /// converter writes. Throws on a missing, mis-shaped or unexpected tensor, naming the file and the tensor.
    public func huggingFaceStateDict(from checkpoint: SafetensorsCheckpoint) throws -> [String: Tensor] {
        // A tied model may still carry lm_head.weight; older exports carry RoPE's inv_freq buffers.
        let tied = config.tieWordEmbeddings
        return try checkpoint.stateDict(
            expected: namedTensors().map { ($0.key, $0.tensor.shape) }, owner: "LlamaForCausalLM",
            ignoring: { (tied && $0 == "lm_head.weight") || $0.hasSuffix("rotary_emb.inv_freq") })
    }
}
