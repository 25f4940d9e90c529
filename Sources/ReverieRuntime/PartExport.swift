import Foundation
import ReverieCore
import ReverieData
import ReverieIO
import ReverieLanguage

/// Hands a trained part back to Python: a directory `from_pretrained` loads (safetensors + config.json, and
/// tokenizer.json for a language model), by part name (`reverie export CHECKPOINT --part llm --out DIR`).
public struct PartExporter: Sendable {
    /// Writes the part of the checkpoint at the first URL into the directory at the second; returns the files.
    public let write: @Sendable (URL, URL) throws -> [URL]

    public init(write: @escaping @Sendable (URL, URL) throws -> [URL]) { self.write = write }
}

public enum PartExport {
    public static let registry = Registry<PartExporter>(family: "exportable part", [PartName.llm.rawValue: llama])

    /// The language model as a `LlamaForCausalLM` directory: config.json (transformers' keys), model.safetensors
    /// (float32, transformers' names; no `lm_head.weight` when tied) and, for a BPE model, its tokenizer.json with
    /// the special tokens Reverie added. From a Reverie model (the `llm` part) or a `reverie convert`ed Llama.
    public static let llama = PartExporter { checkpoint, directory in
        let config = try Checkpoint.readModelConfig(from: checkpoint)
        let llama: LlamaConfig, prefix: String, tokenizerJSON: String?
        if config.values["format"] as? String == "reverie-model" {
            guard let part = try ModelConfigRecord.read(checkpoint).parts.llm else {
                throw CheckpointError.notReverieCheckpoint(path: checkpoint.path, detail: "the model has no llm part")
            }
            (llama, prefix, tokenizerJSON) = (part.llamaConfig, PartName.llm.rawValue, part.tokenizerJSON)
        } else {
            (llama, prefix, tokenizerJSON) = (try LlamaConfig(huggingFace: config), "", nil)
        }
        var tensors = try Checkpoint.readModel(from: checkpoint, prefix: prefix)
        if llama.tieWordEmbeddings { tensors["lm_head.weight"] = nil }
        // Exactly the tensors a model of this configuration has, with its shapes.
        var rng = RNG(seed: 0)
        let reference = try LanguageModel(config: llama, rng: &rng).namedTensors()
        for (key, tensor, _) in reference where tensors[key]?.shape != tensor.shape {
            throw CheckpointError.notReverieCheckpoint(
                path: checkpoint.path,
                detail:
                    "\(prefix.isEmpty ? "" : prefix + ".")\(key) is \(tensors[key].map { "\($0.shape)" } ?? "missing"), "
                    + "the configuration needs \(tensor.shape)")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let weights = directory.appendingPathComponent("model.safetensors")
        try SafetensorsFile.write(
            tensors.filter { key, _ in reference.contains { $0.key == key } }, to: weights,
            metadata: ["format": "pt"])
        var object = try JSONSerialization.jsonObject(with: Data(llama.jsonText().utf8)) as? [String: Any] ?? [:]
        object["torch_dtype"] = "float32"
        let configURL = directory.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]).write(
            to: configURL, options: .atomic)
        var files = [configURL, weights]
        if let tokenizerJSON {
            let url = directory.appendingPathComponent("tokenizer.json")
            try Tokenizer(json: Data(tokenizerJSON.utf8), path: checkpoint.path).write(to: url)
            files.append(url)
        }
        return files
    }
}
