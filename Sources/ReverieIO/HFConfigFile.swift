import Foundation

/// A Hugging Face `config.json`, read as a JSON object, with typed accessors whose errors name the file and the key.
///
/// Model configurations (`LlamaConfig`, …) are built from it in their own targets, so this layer knows no
/// architecture.
public struct HFConfigFile: @unchecked Sendable {
    public let url: URL
    /// The decoded top-level object.
    public let values: [String: Any]
    /// The original text, for storing as a checkpoint's `model_config`.
    public let text: String

    /// Reads `url` (a `config.json` file, or a directory containing one).
    public init(url: URL) throws {
        var isDirectory: ObjCBool = false
        let file =
            FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
            ? url.appendingPathComponent("config.json") : url
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw SafetensorsError.fileNotFound(path: file.path)
        }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw SafetensorsError.io(path: file.path, detail: "cannot read: \(error.localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let values = object as? [String: Any] else {
            throw SafetensorsError.badConfig(path: file.path, key: nil, detail: "not a JSON object")
        }
        (self.url, self.values, self.text) = (file, values, String(decoding: data, as: UTF8.self))
    }

    /// A config made from already-decoded values (tests, nested sub-configs such as `vision_config`).
    public init(values: [String: Any], url: URL) {
        (self.url, self.values) = (url, values)
        text =
            (try? JSONSerialization.data(withJSONObject: values, options: [.sortedKeys]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    private func wrongType(_ key: String, _ expected: String) -> SafetensorsError {
        .badConfig(path: url.path, key: key, detail: "expected \(expected), found \(String(describing: values[key]!))")
    }

    private func missing(_ key: String) -> SafetensorsError {
        .badConfig(path: url.path, key: key, detail: "missing")
    }

    /// Whether `key` is present with a non-null value.
    public func has(_ key: String) -> Bool { values[key] != nil && !(values[key] is NSNull) }

    /// An integer; `defaultValue` when absent or null, an error when absent without a default or not an integer.
    public func int(_ key: String, default defaultValue: Int? = nil) throws -> Int {
        guard has(key) else {
            guard let defaultValue else { throw missing(key) }
            return defaultValue
        }
        // On Linux a JSON `true` is a Bool that also casts to NSNumber 1; reject it by its dynamic type.
        guard let value = values[key], type(of: value) != Bool.self, let n = value as? NSNumber,
            let i = Int(exactly: n.doubleValue)
        else {
            throw wrongType(key, "an integer")
        }
        return i
    }

    /// A number.
    public func double(_ key: String, default defaultValue: Double? = nil) throws -> Double {
        guard has(key) else {
            guard let defaultValue else { throw missing(key) }
            return defaultValue
        }
        guard let n = values[key] as? NSNumber else { throw wrongType(key, "a number") }
        return n.doubleValue
    }

    /// A boolean.
    public func bool(_ key: String, default defaultValue: Bool? = nil) throws -> Bool {
        guard has(key) else {
            guard let defaultValue else { throw missing(key) }
            return defaultValue
        }
        guard let b = values[key] as? Bool else { throw wrongType(key, "true or false") }
        return b
    }

    /// A string.
    public func string(_ key: String, default defaultValue: String? = nil) throws -> String {
        guard has(key) else {
            guard let defaultValue else { throw missing(key) }
            return defaultValue
        }
        guard let s = values[key] as? String else { throw wrongType(key, "a string") }
        return s
    }

    /// A nested object as its own config (same file, keys reported as `outer.inner`), or nil when absent.
    public func object(_ key: String) throws -> HFConfigFile? {
        guard has(key) else { return nil }
        guard let nested = values[key] as? [String: Any] else { throw wrongType(key, "an object") }
        return HFConfigFile(values: nested, url: url)
    }

    /// The diffusers model class (`_class_name`, for example `AutoencoderKL`), if any.
    public var diffusersClassName: String? { values["_class_name"] as? String }

    /// The first entry of `architectures`, if any (for example `LlamaForCausalLM`).
    public var architecture: String? { (values["architectures"] as? [String])?.first }

    /// An error about `key` in this file, for validation done by the caller.
    public func invalid(_ key: String, _ detail: String) -> SafetensorsError {
        .badConfig(path: url.path, key: key, detail: detail)
    }
}
