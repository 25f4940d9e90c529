import Foundation
import ReverieCore
import ReverieIO
import ReverieNN

/// What every exporter does once it knows the configuration: reads the part's tensors, checks them against a
/// model built from that configuration (every tensor present, with its shape), and writes config.json and the
/// weights file.
struct ExportDirectory {
    let checkpoint: URL
    let directory: URL

    /// The parts of a Reverie model checkpoint (not a converted one, which has no parts).
    func parts(_ part: PartName) throws -> ModelParts {
        let config = try Checkpoint.readModelConfig(from: checkpoint)
        guard config.values["format"] as? String == "reverie-model" else {
            throw CheckpointError.notReverieCheckpoint(
                path: checkpoint.path, detail: "not a Reverie model (reverie convert output has no '\(part)' part)")
        }
        let parts = try ModelConfigRecord.read(checkpoint).parts
        guard parts.has(part) else {
            throw CheckpointError.notReverieCheckpoint(
                path: checkpoint.path, detail: "the model has no \(part.rawValue) part")
        }
        return parts
    }

    /// The tensors under `prefix.` (prefix stripped), exactly those `reference` has with its shapes.
    func tensors(prefix: String, reference: Module) throws -> [String: Tensor] {
        try tensors(Checkpoint.readModel(from: checkpoint, prefix: prefix), prefix: prefix, reference: reference)
    }

    /// Of `all` (read from under `prefix.`), exactly the tensors `reference` has, with its shapes.
    func tensors(_ all: [String: Tensor], prefix: String, reference: Module) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (key, tensor, _) in reference.namedTensors() {
            guard let found = all[key], found.shape == tensor.shape else {
                throw CheckpointError.notReverieCheckpoint(
                    path: checkpoint.path,
                    detail: "\(prefix).\(key) is \(all[key].map { "\($0.shape)" } ?? "missing"), the configuration "
                        + "needs \(tensor.shape)")
            }
            out[key] = found
        }
        return out
    }

    /// Writes `object` as `name` (sorted, pretty JSON).
    func writeJSON(_ object: [String: Any], _ name: String) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]).write(
            to: url, options: .atomic)
        return url
    }

    /// Writes `tensors` (float32) as the safetensors file `name`, with `keyPrefix` before every name.
    func writeWeights(_ tensors: [String: Tensor], _ name: String, keyPrefix: String = "") throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try SafetensorsFile.write(
            Dictionary(uniqueKeysWithValues: tensors.map { (keyPrefix + $0.key, $0.value) }), to: url,
            metadata: ["format": "pt"])
        return url
    }

    /// A Codable configuration as a JSON object.
    static func object<T: Encodable>(_ value: T) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? [String: Any] ?? [:]
    }
}
