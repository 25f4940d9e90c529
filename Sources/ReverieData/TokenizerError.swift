/// Why a tokenizer could not be loaded, saved, trained or used. Messages about a file name the file and the key.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    /// The file is not valid JSON (or not UTF-8).
    case invalidJSON(path: String, detail: String)
    /// A key is missing or has the wrong type or value; `key` is a JSON path such as `model.merges[3]`.
    case invalidField(path: String, key: String, reason: String)
    /// A component Reverie does not implement (a WordPiece model, a normalizer, a custom split regex, …).
    case unsupported(path: String, key: String, value: String)
    /// An id outside the vocabulary.
    case unknownId(Int)
    /// Training or encoding was asked for something impossible (a vocabulary smaller than the alphabet, …).
    case invalidArgument(operation: String, detail: String)
    /// A file-system call failed.
    case io(path: String, operation: String, detail: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "tokenizer file not found: \(path)"
        case .invalidJSON(let path, let detail): return "tokenizer file \(path) is not valid JSON: \(detail)"
        case .invalidField(let path, let key, let reason): return "tokenizer file \(path): key '\(key)' \(reason)"
        case .unsupported(let path, let key, let value):
            return
                "tokenizer file \(path): unsupported \(key) '\(value)' (Reverie reads BPE tokenizers: GPT-2, Llama-3, SmolLM and SentencePiece layouts)"
        case .unknownId(let id): return "token id \(id) is not in the vocabulary"
        case .invalidArgument(let operation, let detail): return "\(operation): \(detail)"
        case .io(let path, let operation, let detail): return "\(operation) failed for \(path): \(detail)"
        }
    }
}
