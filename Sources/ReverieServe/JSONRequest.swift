import Foundation
import NIOCore
import ReverieRuntime

/// A request body read as one JSON object, its keys checked against the ones the endpoint knows, each value read
/// with its type; every problem is a 400 naming the key.
struct JSONRequest {
    let object: [String: Any]
    let data: Data

    init(_ buffer: ByteBuffer, known: Set<String>) throws {
        data = Data(buffer.readableBytesView)
        guard !data.isEmpty else { throw ServeError.badRequest("the body is empty; send a JSON object") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ServeError.badRequest("the body is not JSON: \(error.localizedDescription)")
        }
        guard let object = parsed as? [String: Any] else {
            throw ServeError.badRequest("the body is not a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ServeError.badRequest(
                "unknown key '\(unknown)'; this endpoint reads \(known.sorted().joined(separator: ", "))")
        }
        self.object = object
    }

    /// A non-empty string (at most 4096 characters).
    func text(_ key: String) throws -> String {
        guard let value = object[key] else { throw ServeError.badRequest("missing key '\(key)'") }
        guard let s = value as? String else { throw ServeError.badRequest("'\(key)' must be a string") }
        let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ServeError.badRequest("'\(key)' is empty") }
        guard trimmed.count <= 4096 else { throw ServeError.badRequest("'\(key)' is longer than 4096 characters") }
        return trimmed
    }

    /// An optional integer.
    func integer(_ key: String) throws -> Int? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let n = value as? NSNumber, let i = Int(exactly: n.doubleValue) else {
            throw ServeError.badRequest("'\(key)' must be an integer")
        }
        return i
    }

    /// The drawing keys of the request (`sample_steps`, `guidance`, `noise_seed`, `sampler`, `keep_threshold`,
    /// `keep_grow`) over the server's defaults, checked, and steps bounded by `maxSteps`.
    func drawing(over defaults: DrawingOptions, maxSteps: Int) throws -> DrawingOptions {
        let keys = Self.drawingKeys.filter { object[$0] != nil }
        guard !keys.isEmpty else { return defaults }
        var merged = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults))) as? [String: Any] ?? [:]
        for k in keys { merged[k] = object[k] }
        let options: DrawingOptions
        do {
            options = try JSONDecoder().decode(
                DrawingOptions.self, from: JSONSerialization.data(withJSONObject: merged))
            try options.validate()
        } catch {
            throw ServeError.badRequest("bad drawing option: \(Self.describe(error))")
        }
        guard options.steps <= maxSteps else {
            throw ServeError.badRequest("'sample_steps' is \(options.steps); this server draws at most \(maxSteps)")
        }
        return options
    }

    static let drawingKeys: Set<String> = [
        "sample_steps", "guidance", "noise_seed", "sampler", "keep_threshold", "keep_grow",
    ]

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c),
            DecodingError.dataCorrupted(let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "'\(path)': \(c.debugDescription)"
        default: return "\(error)"
        }
    }
}
