import Foundation
import ReverieCore
import ReverieIO

extension ModelConfigRecord {
    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    /// Decodes and checks a stored configuration. Keys a checkpoint lacks take today's defaults (options added
    /// after it was written), and the layouts of older checkpoints are read as they were stored.
    ///
    /// - Throws: `RuntimeError.badModel` naming the file and the key.
    public static func decode(_ json: String, file: String) throws -> ModelConfigRecord {
        let record: ModelConfigRecord
        do {
            record = try JSONDecoder().decode(ModelConfigRecord.self, from: Data(json.utf8))
        } catch let e as ConfigurationError {
            throw RuntimeError.badModel(file: file, detail: "model_config: \(e)")
        } catch {
            throw RuntimeError.badModel(
                file: file,
                detail: "model_config is not a Reverie model configuration "
                    + "(\(Self.describe(error)))")
        }
        do {
            try record.parts.validate()
        } catch let e as ConfigurationError {
            throw RuntimeError.badModel(file: file, detail: "model_config: parts.\(e)")
        }
        return record
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, context):
            return "missing key \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
            let DecodingError.dataCorrupted(context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }

    /// The record of the checkpoint at `url`, with the BPE tokenizer text it stores.
    public static func read(_ url: URL) throws -> ModelConfigRecord {
        let attrs = try Checkpoint.readAttributes(from: url)
        guard let json = attrs["model_config"]?.stringValue else {
            throw RuntimeError.badModel(file: url.path, detail: "model_config: missing: not a Reverie model")
        }
        var record = try decode(json, file: url.path)
        if record.parts.llm?.tokenizer == "bpe" {
            guard let text = attrs["tokenizer"]?.stringValue else {
                throw RuntimeError.badModel(
                    file: url.path,
                    detail: "tokenizer: missing: the model_config names a bpe tokenizer but none is stored")
            }
            record.parts.llm?.tokenizerJSON = text
        }
        return record
    }
}
