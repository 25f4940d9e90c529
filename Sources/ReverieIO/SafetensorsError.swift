import ReverieCore

/// Why a safetensors file, a sharded safetensors index or a Hugging Face `config.json` could not be read. Every
/// message names the file, and the tensor or key at fault where there is one.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    /// The 8-byte length prefix or the JSON header is missing, too long or malformed.
    case badHeader(path: String, detail: String)
    /// The file ends before the bytes a tensor's `data_offsets` name (or before the header does).
    case truncated(path: String, tensor: String?, detail: String)
    /// A tensor stored in a type Reverie cannot widen to Float32 (only F32, F16 and BF16 are read).
    case unsupportedDType(path: String, tensor: String, dtype: String)
    case missingTensor(path: String, tensor: String)
    case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
    /// `model.safetensors.index.json` is malformed or names a shard that does not exist.
    case badIndex(path: String, detail: String)
    /// A directory with neither `model.safetensors` nor `model.safetensors.index.json`.
    case noWeights(directory: String)
    /// `config.json` is missing, not JSON, or a key has the wrong type or value.
    case badConfig(path: String, key: String?, detail: String)
    case io(path: String, detail: String)
    /// A tensor holding NaN or infinite values (`count` of them, the first at flat `index`).
    case nonFinite(path: String, tensor: String, count: Int, index: Int)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "file not found: \(path)"
        case let .badHeader(path, detail):
            return "\(path): bad safetensors header: \(detail)"
        case let .truncated(path, tensor, detail):
            return "\(path) is truncated" + (tensor.map { " at tensor '\($0)'" } ?? "") + ": \(detail)"
        case let .unsupportedDType(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' has dtype \(dtype); Reverie reads F32, F16 and BF16"
        case let .missingTensor(path, tensor):
            return "\(path) has no tensor '\(tensor)'"
        case let .shapeMismatch(path, tensor, expected, found):
            return "\(path): tensor '\(tensor)' has shape \(shapeString(found)), expected \(shapeString(expected))"
        case let .nonFinite(path, tensor, count, index):
            return "\(path): tensor '\(tensor)' holds \(count) NaN or infinite value(s), the first at element \(index)"
        case let .badIndex(path, detail):
            return "\(path): bad safetensors index: \(detail)"
        case let .noWeights(directory):
            return "\(directory) has neither model.safetensors nor model.safetensors.index.json"
        case let .badConfig(path, key, detail):
            return "\(path)" + (key.map { ": key '\($0)'" } ?? "") + ": \(detail)"
        case let .io(path, detail):
            return "\(path): \(detail)"
        }
    }
}
