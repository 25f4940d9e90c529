import Foundation
import ReverieCore
import ReverieRuntime

extension Recipe {
    /// Checks an `init: hf:DIR` part: the directory (relative to the recipe file) exists and the part has an
    /// importer; options beside `init` must agree with the directory's configuration (an error names both values).
    mutating func pretrainedDirectory(_ path: String, _ part: PartName, _ node: RecipeNode, _ s: RecipeSection) throws
        -> String
    {
        let file = node["init"]?.file ?? node.file
        let directory =
            path.hasPrefix("/") || file.hasPrefix("--set")
            ? path : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw s.error("init", "pretrained directory '\(directory)' does not exist")
        }
        let importer: PretrainedImporter
        do { importer = try PretrainedParts.registry.entry(part.rawValue, key: "init") } catch let e
            as ConfigurationError
        {
            throw s.error("init", e.message)
        }
        guard case let .map(pairs) = node.value, pairs.contains(where: { $0.key != "init" }) else { return directory }
        // Options beside `init`: the importer takes those the directory lacks; the others must equal what the
        // pretrained configuration says.
        let own = RecipeNode(
            value: .map(pairs.filter { !["init", "lora"].contains($0.key) }), file: node.file, line: node.line)
        var mine = ModelParts()
        try mine.read(part, own)
        pretrainedOptions[part] = mine
        let imported: ModelParts
        do { imported = try importer.configuration(URL(fileURLWithPath: directory), mine) } catch {
            throw s.error("init", "\(error)")
        }
        let (a, b) = (try Self.options(mine, part), try Self.options(imported, part))
        if let node = node["lora"] {
            guard ModelParts.adaptable.contains(part) else {
                throw s.error(
                    "lora",
                    "only the \(ModelParts.adaptable.map(\.rawValue).joined(separator: " and ")) parts take LoRA adapters"
                )
            }
            adapters[part] = try RecipeDecoder.decode(LoRAOptions.self, from: node, path: "model.\(part.rawValue).lora")
        }
        for (key, _) in pairs where !["init", "tokenizer", "lora"].contains(key) {
            if let value = a[key], "\(value)" != "\(b[key] ?? "none")" {
                throw RecipeDecoder.locate(
                    ConfigurationError(
                        key: key,
                        "\(value) in the recipe, \(b[key].map { "\($0)" } ?? "none") in \(directory)/config.json"),
                    in: node, path: "model.\(part.rawValue)")
            }
        }
        return directory
    }

    /// A part's options as the JSON object its stored configuration is.
    static func options(_ parts: ModelParts, _ part: PartName) throws -> [String: Any] {
        let data = try JSONEncoder().encode(parts)
        let all = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return all[part.rawValue] as? [String: Any] ?? [:]
    }
}
