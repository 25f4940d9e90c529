import Foundation

/// Reads a JSONL manifest: one JSON object per line, blank lines ignored, image paths relative to the manifest.
///
/// ```
/// {"kind": "caption", "image": "images/0.png", "text": "a small red circle in the top left on a white background"}
/// {"kind": "text_to_image", "text": "draw …", "image": "images/1.png"}
/// {"kind": "edit", "source": "images/2.png", "instruction": "make the red circle blue", "target": "images/3.png"}
/// {"kind": "edit", "source": …, "instruction": …, "target": …, "result": "a small blue circle … background"}
/// {"kind": "interleaved", "segments": [{"text": "draw …"}, {"image": "images/4.png"}, {"text": "then …"}]}
/// ```
/// A line that is not JSON, has an unknown kind, lacks a field, or names a missing image file is an error naming
/// the file and line, or, with `skipBad`, is skipped and listed in ``Manifest/skipped``.
public struct Manifest: Sendable {
    /// The manifest file.
    public let url: URL
    /// The good records, in file order.
    public let records: [DataRecord]
    /// The manifest line number of each record (1-based).
    public let lines: [Int]
    /// Lines skipped under `skipBad`, with the reason.
    public let skipped: [(line: Int, reason: String)]

    /// Reads `url`. With `checkFiles`, image paths must name existing files.
    public init(contentsOf url: URL, skipBad: Bool = false, checkFiles: Bool = true) throws {
        let name = url.path
        guard let data = FileManager.default.contents(atPath: name) else {
            throw DatasetError.unreadableManifest(file: name, reason: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError.unreadableManifest(file: name, reason: "not UTF-8 text")
        }
        let folder = url.deletingLastPathComponent()
        var records: [DataRecord] = [], lines: [Int] = [], skipped: [(Int, String)] = []
        // "\r\n" is one Character in Swift, so CRLF line ends need their own separator.
        let rawLines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (k, raw) in rawLines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            do {
                records.append(try Self.parse(line, folder: folder, checkFiles: checkFiles))
                lines.append(k + 1)
            } catch let reason as LineError {
                if !skipBad { throw DatasetError.badLine(file: name, line: k + 1, reason: reason.message) }
                skipped.append((k + 1, reason.message))
            }
        }
        self.url = url
        self.records = records
        self.lines = lines
        self.skipped = skipped
    }

    struct LineError: Error {
        let message: String
    }

    static func parse(_ line: String, folder: URL, checkFiles: Bool) throws -> DataRecord {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        } catch {
            throw LineError(message: "not valid JSON")
        }
        guard let fields = object as? [String: Any] else { throw LineError(message: "not a JSON object") }
        func string(_ key: String, in dict: [String: Any] = fields) throws -> String {
            guard let v = dict[key] else { throw LineError(message: "missing field \"\(key)\"") }
            guard let s = v as? String else { throw LineError(message: "field \"\(key)\" is not a string") }
            return s
        }
        func image(_ key: String, in dict: [String: Any] = fields) throws -> ImageRef {
            let path = try string(key, in: dict)
            guard !path.isEmpty else { throw LineError(message: "field \"\(key)\" is empty") }
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
            var isDirectory: ObjCBool = false
            if checkFiles && !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
                throw LineError(message: "\"\(key)\": image file \(url.path) does not exist")
            }
            if checkFiles && isDirectory.boolValue {
                throw LineError(message: "\"\(key)\": \(url.path) is a directory, not an image file")
            }
            return .file(url.standardizedFileURL)
        }
        let kind = try string("kind")
        switch kind {
        case "caption": return .caption(image: try image("image"), text: try string("text"))
        case "text_to_image": return .textToImage(text: try string("text"), image: try image("image"))
        case "edit":
            return .edit(
                source: try image("source"), instruction: try string("instruction"),
                target: try image("target"), result: fields["result"] == nil ? nil : try string("result"))
        case "interleaved":
            guard let segments = fields["segments"] as? [[String: Any]], !segments.isEmpty else {
                throw LineError(message: "\"segments\" must be a non-empty array of {\"text\"} or {\"image\"} objects")
            }
            return .interleaved(
                try segments.enumerated().map { i, s in
                    if s["text"] != nil { return .text(try string("text", in: s)) }
                    if s["image"] != nil { return .image(try image("image", in: s)) }
                    throw LineError(message: "segment \(i) has neither \"text\" nor \"image\"")
                })
        default:
            throw LineError(message: "unknown kind \"\(kind)\" (expected caption, text_to_image, edit, interleaved)")
        }
    }
}
