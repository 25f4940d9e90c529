import Foundation
import ReverieIO

/// Writes records as JSONL manifest lines that ``Manifest`` reads back, with image paths relative to the
/// manifest's folder when they lie inside it.
public enum ManifestWriter {
    /// One manifest line for `record`, keys in the documented order. Throws
    /// ``DatasetError/badConfiguration(_:)`` for in-memory scene images, which must be written to files first.
    public static func line(for record: DataRecord, relativeTo folder: URL) throws -> String {
        func string(_ s: String) -> String {
            // JSONEncoder escapes quotes, backslashes and control characters; it cannot fail on a String.
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            return (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
        }
        func image(_ ref: ImageRef) throws -> String {
            guard case .file(let url) = ref else {
                throw DatasetError.badConfiguration("a ShapesWorld scene image must be written to a file first")
            }
            let base = folder.standardizedFileURL.path, path = url.standardizedFileURL.path
            let prefix = base.hasSuffix("/") ? base : base + "/"
            return string(path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path)
        }
        func object(_ fields: [(String, String)]) -> String {
            "{" + fields.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
        }
        let kind = ("kind", string(record.kind))
        switch record {
        case .caption(let i, let t): return object([kind, ("image", try image(i)), ("text", string(t))])
        case .textToImage(let t, let i): return object([kind, ("text", string(t)), ("image", try image(i))])
        case .edit(let s, let instruction, let t, let result):
            return object(
                [
                    kind, ("source", try image(s)), ("instruction", string(instruction)),
                    ("target", try image(t)),
                ] + (result.map { [("result", string($0))] } ?? []))
        case .interleaved(let segments):
            let items = try segments.map { segment -> String in
                switch segment {
                case .text(let t): return object([("text", string(t))])
                case .image(let i): return object([("image", try image(i))])
                }
            }
            return object([kind, ("segments", "[" + items.joined(separator: ", ") + "]")])
        }
    }

    /// Writes `records` to `url` (one line each), through a temporary file renamed into place.
    public static func write(_ records: [DataRecord], to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        if let problem = OutputDestination.problem(url) {
            throw DatasetError.unreadableManifest(file: url.path, reason: "cannot write: it \(problem)")
        }
        let text = try records.map { try line(for: $0, relativeTo: folder) + "\n" }.joined()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(text.utf8).write(to: temporary)
            // rename(2) replaces an existing manifest atomically (FileManager's replaceItemAt does not on Linux).
            guard rename(temporary.path, url.path) == 0 else {
                let reason = String(cString: strerror(errno))
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: reason])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw DatasetError.unreadableManifest(file: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
