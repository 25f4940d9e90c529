import Foundation
import ReverieCore

/// What a `loadStateDict` call did: which keys it loaded and which it could not match. Keys are sorted naturally.
public struct LoadReport: Equatable, Sendable, CustomStringConvertible {
    /// Keys whose values were copied into the parameters.
    public var loaded: [String]
    /// Parameters with no tensor in the checkpoint (left unchanged).
    public var missing: [String]
    /// Checkpoint tensors with no parameter of that key (ignored).
    public var unexpected: [String]
    /// Keys present on both sides with different shapes (left unchanged).
    public var mismatched: [ShapeMismatch]

    public init(loaded: [String], missing: [String], unexpected: [String], mismatched: [ShapeMismatch]) {
        self.loaded = loaded
        self.missing = missing
        self.unexpected = unexpected
        self.mismatched = mismatched
    }

    /// True when every parameter was loaded and every checkpoint tensor was used.
    public var isComplete: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

    public var description: String {
        var parts = ["loaded \(loaded.count)"]
        if !missing.isEmpty { parts.append("missing \(missing.count): " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { parts.append("unexpected \(unexpected.count): " + unexpected.joined(separator: ", ")) }
        if !mismatched.isEmpty {
            parts.append("mis-shaped \(mismatched.count): " + mismatched.map(\.description).joined(separator: "; "))
        }
        return parts.joined(separator: "; ")
    }
}

/// Copies the values of `stored` tensors into the storage of the same-keyed `params`, in place, so modules that hold
/// those tensors see the new values.
///
/// - Parameters:
///   - stored: the tensors read from a checkpoint, by key.
///   - params: the model's tensors (`stateDict()`), by key; their storage receives the values.
///   - strict: if true, any missing key, unexpected key or shape mismatch throws
///     `CheckpointError.stateDictMismatch` listing all of them, and no parameter is modified. If false, every key
///     that matches in name and shape is loaded and the rest is reported.
///   - file: the checkpoint's path, for the error message.
/// - Returns: the keys loaded, missing, unexpected and mis-shaped.
@discardableResult
public func loadStateDict(
    _ stored: [String: Tensor], into params: [String: Tensor], strict: Bool = true, file: String
) throws -> LoadReport {
    var loadable: [(key: String, source: Tensor, target: Tensor)] = []
    var missing: [String] = []
    var mismatched: [ShapeMismatch] = []
    for (key, target) in params {
        guard let source = stored[key] else {
            missing.append(key)
            continue
        }
        if source.shape == target.shape {
            loadable.append((key, source, target))
        } else {
            mismatched.append(ShapeMismatch(key: key, expected: target.shape, found: source.shape))
        }
    }
    let unexpected = stored.keys.filter { params[$0] == nil }
    let report = LoadReport(
        loaded: loadable.map(\.key).sorted(by: naturalKeyOrder),
        missing: missing.sorted(by: naturalKeyOrder),
        unexpected: unexpected.sorted(by: naturalKeyOrder),
        mismatched: mismatched.sorted { naturalKeyOrder($0.key, $1.key) })
    if strict && !report.isComplete {
        throw CheckpointError.stateDictMismatch(
            path: file, missing: report.missing, unexpected: report.unexpected, mismatched: report.mismatched)
    }
    for (_, source, target) in loadable where source.pointer != target.pointer {
        // `copyMemory` allows overlapping regions, so even a stored tensor that views a parameter's storage is safe.
        UnsafeMutableRawPointer(target.pointer).copyMemory(
            from: source.pointer, byteCount: target.count * MemoryLayout<Float>.stride)
    }
    return report
}

extension Checkpoint {
    /// Reads the model section of `url` and loads it into `params` (see `loadStateDict(_:into:strict:file:)`).
    @discardableResult
    public static func loadModel(
        from url: URL, into params: [String: Tensor], strict: Bool = true
    ) throws -> LoadReport {
        let checkpoint = try read(from: url, sections: [.model])
        return try loadStateDict(checkpoint.model, into: params, strict: strict, file: url.path)
    }
}
