import ReverieCore

/// Why a checkpoint could not be read, written or loaded. Every message names the file, and the tensor key and
/// shapes where they matter.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    /// The path exists but is a directory or another non-regular file.
    case notAFile(path: String)
    case emptyFile(path: String)
    /// The file has no HDF5 signature. `lookalike` names what it seems to be instead ("a PNG image"), when known.
    case notHDF5(path: String, lookalike: String?)
    /// The file starts like HDF5 but the library cannot open it: truncated, or damaged.
    case corruptFile(path: String, detail: String)
    /// A valid HDF5 file without the `format = "reverie"` root attribute.
    case notReverieCheckpoint(path: String, detail: String)
    case unsupportedFormatVersion(path: String, version: Int64)
    /// `key` is dotted and includes its section (`model.llm.norm.weight`).
    case missingTensor(path: String, key: String)
    case shapeMismatch(path: String, key: String, expected: [Int], found: [Int])
    /// A dataset whose type cannot become a Float32 tensor (or an int64 array), such as strings.
    case unsupportedDataset(path: String, key: String, dtype: String)
    /// A weight that is NaN or infinite (`count` of them, the first at flat `index`).
    case nonFinite(path: String, key: String, count: Int, index: Int)
    /// A dataset too large for this machine's memory (or with a corrupt extent).
    case tensorTooLarge(path: String, key: String, shape: [Int])
    /// Two datasets in a file map to the same dotted key (`/model/a/b` and `/model/a.b`).
    case duplicateKey(path: String, key: String)
    /// A key that cannot be written: empty component, `/`, or a key that is also the group of another key.
    case invalidKey(path: String, key: String, reason: String)
    case invalidAttribute(path: String, name: String, reason: String)
    /// A strict `loadStateDict` found keys or shapes that do not match; lists every one.
    case stateDictMismatch(path: String, missing: [String], unexpected: [String], mismatched: [ShapeMismatch])
    /// HDF5 failed while Reverie was doing `operation`; `detail` is the library's message.
    case hdf5(path: String, operation: String, detail: String)
    /// A file-system call failed (permissions, rename, a full disk).
    case io(path: String, operation: String, detail: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "checkpoint not found: \(path)"
        case let .notAFile(path):
            return "\(path) is not a regular file"
        case let .emptyFile(path):
            return "\(path) is empty (0 bytes), not an HDF5 checkpoint"
        case let .notHDF5(path, lookalike):
            return "\(path) is not an HDF5 file" + (lookalike.map { " (it looks like \($0))" } ?? "")
        case let .corruptFile(path, detail):
            return "cannot open \(path): the HDF5 file is truncated or corrupt" + hdf5Suffix(detail)
        case let .notReverieCheckpoint(path, detail):
            return "\(path) is an HDF5 file but not a Reverie checkpoint: \(detail)"
        case let .unsupportedFormatVersion(path, version):
            return "\(path) has format_version \(version); this build of Reverie reads format_version "
                + "\(Checkpoint.formatVersion) and older"
        case let .missingTensor(path, key):
            return "\(path) has no tensor '\(key)' (no dataset /\(key.replacingDots()))"
        case let .shapeMismatch(path, key, expected, found):
            return "\(path): tensor '\(key)' has shape \(shapeString(found)) in the checkpoint, "
                + "expected \(shapeString(expected))"
        case let .unsupportedDataset(path, key, dtype):
            return "\(path): dataset '\(key)' has type \(dtype), which cannot be read as a float32 tensor"
        case let .nonFinite(path, key, count, index):
            return "\(path): tensor '\(key)' holds \(count) NaN or infinite value(s), the first at element \(index); "
                + "a model with them cannot run (reverie inspect lists the file without reading its values)"
        case let .tensorTooLarge(path, key, shape):
            return "\(path): tensor '\(key)' of shape \(shapeString(shape)) does not fit in this machine's memory"
        case let .duplicateKey(path, key):
            return "\(path): more than one dataset maps to the key '\(key)'"
        case let .invalidKey(path, key, reason):
            return "cannot write \(path): invalid key '\(key)': \(reason)"
        case let .invalidAttribute(path, name, reason):
            return "cannot write \(path): invalid attribute '\(name)': \(reason)"
        case let .stateDictMismatch(path, missing, unexpected, mismatched):
            var lines = ["\(path) does not match the model (strict load):"]
            if !missing.isEmpty {
                lines.append("  missing from the checkpoint (\(missing.count)): " + missing.joined(separator: ", "))
            }
            if !unexpected.isEmpty {
                lines.append(
                    "  unexpected in the checkpoint (\(unexpected.count)): " + unexpected.joined(separator: ", "))
            }
            if !mismatched.isEmpty {
                lines.append("  mis-shaped (\(mismatched.count)):")
                lines += mismatched.map { "    \($0)" }
            }
            return lines.joined(separator: "\n")
        case let .hdf5(path, operation, detail):
            return "\(path): \(operation) failed" + hdf5Suffix(detail)
        case let .io(path, operation, detail):
            return "\(path): \(operation) failed: \(detail)"
        }
    }
}

/// A tensor whose shape in the checkpoint differs from the shape the model expects.
public struct ShapeMismatch: Equatable, Sendable, CustomStringConvertible {
    public var key: String
    /// The shape of the model's parameter.
    public var expected: [Int]
    /// The shape stored in the checkpoint.
    public var found: [Int]

    public init(key: String, expected: [Int], found: [Int]) {
        self.key = key
        self.expected = expected
        self.found = found
    }

    public var description: String {
        "\(key): model \(shapeString(expected)), checkpoint \(shapeString(found))"
    }
}

private func hdf5Suffix(_ detail: String) -> String { detail.isEmpty ? "" : " (HDF5: \(detail))" }

extension String {
    fileprivate func replacingDots() -> String {
        split(separator: ".", omittingEmptySubsequences: false).joined(separator: "/")
    }
}
