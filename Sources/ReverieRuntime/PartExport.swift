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
    public static let registry = Registry<PartExporter>(
        family: "exportable part",
        [
            PartName.llm.rawValue: llama, PartName.vision.rawValue: siglip, PartName.vae.rawValue: autoencoder,
            PartName.unet.rawValue: unet, PartName.projector.rawValue: projector,
        ])

    /// The language model as a `LlamaForCausalLM` directory: config.json (transformers' keys), model.safetensors
    /// (float32, transformers' names; no `lm_head.weight` when tied) and, for a BPE model, its tokenizer.json with
    /// the special tokens Reverie added. From a Reverie model (the `llm` part) or a `reverie convert`ed Llama.
    public static let llama = PartExporter { checkpoint, directory in
        let config = try Checkpoint.readModelConfig(from: checkpoint)
        let llama: LlamaConfig, prefix: String, tokenizerJSON: String?, lora: LoRAOptions?
        if config.values["format"] as? String == "reverie-model" {
            guard let part = try ModelConfigRecord.read(checkpoint).parts.llm else {
                throw CheckpointError.notReverieCheckpoint(path: checkpoint.path, detail: "the model has no llm part")
            }
            (llama, prefix, tokenizerJSON, lora) = (
                part.llamaConfig, PartName.llm.rawValue, part.tokenizerJSON, part.lora
            )
        } else {
            (llama, prefix, tokenizerJSON, lora) = (try LlamaConfig(huggingFace: config), "", nil, nil)
        }
        var tensors = try Checkpoint.readModel(from: checkpoint, prefix: prefix)
        var files: [URL] = []
        if let lora {  // the adapters in PEFT's layout, then merged into the weights
            files += try writePEFT(tensors, lora, to: directory.appendingPathComponent("adapter"))
            tensors = try merged(tensors, scale: lora.alpha / Float(lora.rank))
        }
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
        let referenceKeys = Set(reference.map(\.key))
        let weights = directory.appendingPathComponent("model.safetensors")
        try SafetensorsFile.write(
            tensors.filter { referenceKeys.contains($0.key) }, to: weights,
            metadata: ["format": "pt"])
        var object = try JSONSerialization.jsonObject(with: Data(llama.jsonText().utf8)) as? [String: Any] ?? [:]
        object["torch_dtype"] = "float32"
        let configURL = directory.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]).write(
            to: configURL, options: .atomic)
        files += [configURL, weights]
        if let tokenizerJSON {
            let url = directory.appendingPathComponent("tokenizer.json")
            try Tokenizer(json: Data(tokenizerJSON.utf8), path: checkpoint.path).write(to: url)
            files.append(url)
        }
        return files
    }

    /// `tensors` with every LoRA pair folded into its layer: W + scale · B A, the adapter keys removed.
    static func merged(_ tensors: [String: Tensor], scale: Float) throws -> [String: Tensor] {
        var out = tensors
        for key in tensors.keys where key.hasSuffix(".lora_A.weight") {
            let stem = String(key.dropLast(".lora_A.weight".count))
            guard let a = tensors[key], let b = tensors[stem + ".lora_B.weight"], let w = tensors[stem + ".weight"]
            else {
                throw ConfigurationError(key: key, "a LoRA adapter without its lora_B or base weight")
            }
            out[stem + ".weight"] = try w + matmul(b, a) * scale
            (out[key], out[stem + ".lora_B.weight"]) = (nil, nil)
        }
        return out
    }

    /// The adapters as PEFT saves them: adapter_model.safetensors (`base_model.model.<keyPrefix><key>`) and
    /// adapter_config.json.
    static func writePEFT(
        _ tensors: [String: Tensor], _ lora: LoRAOptions, to directory: URL, task: String = "CAUSAL_LM",
        keyPrefix: String = ""
    ) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let adapters = Dictionary(
            uniqueKeysWithValues: tensors.filter { $0.key.contains(".lora_A.") || $0.key.contains(".lora_B.") }
                .map { ("base_model.model.\(keyPrefix)\($0.key)", $0.value) })
        let weights = directory.appendingPathComponent("adapter_model.safetensors")
        try SafetensorsFile.write(adapters, to: weights, metadata: ["format": "pt"])
        let config: [String: Any] = [
            "peft_type": "LORA", "task_type": task, "r": lora.rank, "lora_alpha": lora.alpha,
            "lora_dropout": lora.dropout, "target_modules": lora.targets, "bias": "none", "fan_in_fan_out": false,
            "inference_mode": true, "base_model_name_or_path": NSNull(),
        ]
        let configURL = directory.appendingPathComponent("adapter_config.json")
        try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted]).write(
            to: configURL, options: .atomic)
        return [configURL, weights]
    }
}
