import Foundation
import ReverieCore

extension Checkpoint {
    /// The `model_config` root attribute of the checkpoint at `url`, parsed as a `config.json`-style object, so a
    /// model family can rebuild its architecture from it. Errors name the file.
    public static func readModelConfig(from url: URL) throws -> HFConfigFile {
        let attributes = try readAttributes(from: url)
        guard let text = attributes["model_config"]?.stringValue else {
            throw CheckpointError.notReverieCheckpoint(path: url.path, detail: "no model_config attribute")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)),
            let values = object as? [String: Any]
        else {
            throw SafetensorsError.badConfig(path: url.path, key: "model_config", detail: "not a JSON object")
        }
        return HFConfigFile(values: values, url: url)
    }

    /// The model tensors of the checkpoint at `url` under `prefix` (for example `llm` in a composed checkpoint),
    /// with the prefix and its dot removed from the keys; every model tensor when `prefix` is empty.
    public static func readModel(from url: URL, prefix: String = "") throws -> [String: Tensor] {
        let stored = try read(from: url, sections: [.model], prefix: prefix.isEmpty ? nil : prefix).model
        guard !prefix.isEmpty else { return stored }
        var out: [String: Tensor] = [:]
        for (key, tensor) in stored where key.hasPrefix(prefix + ".") {
            out[String(key.dropFirst(prefix.count + 1))] = tensor
        }
        return out
    }
}
