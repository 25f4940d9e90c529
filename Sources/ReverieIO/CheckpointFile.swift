import CHDF5
import Foundation

/// Opening a checkpoint for reading: the checks that turn "HDF5 could not open it" into a message that says why
/// (missing, empty, not HDF5 at all, truncated, not a Reverie checkpoint).
enum CheckpointFile {
    /// Opens `url` read-only, checks it is a Reverie checkpoint, and runs `body` with the open file under the HDF5
    /// lock. HDF5 failures inside `body` are reported as `CheckpointError.hdf5` naming the file.
    static func withOpenCheckpoint<T>(_ url: URL, _ body: (HDF5File, String) throws -> T) throws -> T {
        let path = url.path
        try checkIsCandidate(path)
        return try HDF5Library.withLock {
            do {
                let signature = H5Fis_hdf5(path)
                if signature == 0 {
                    throw CheckpointError.notHDF5(path: path, lookalike: lookalike(of: path))
                }
                let file: HDF5File
                do {
                    file = try HDF5File.openReadOnly(path)
                } catch let failure as HDF5Error {
                    throw CheckpointError.corruptFile(path: path, detail: failure.detail)
                }
                try checkFormat(of: file, path: path)
                return try body(file, path)
            } catch let failure as HDF5Error {
                throw CheckpointError.hdf5(path: path, operation: failure.operation, detail: failure.detail)
            }
        }
    }

    /// Checks what the file system can tell before HDF5 is asked: the path exists, is a readable regular file, and
    /// is not empty.
    private static func checkIsCandidate(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError.fileNotFound(path: path)
        }
        // stat(2) follows symbolic links: a link to a checkpoint is that checkpoint (a loop fails here).
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CheckpointError.io(path: path, operation: "stat", detail: String(cString: strerror(errno)))
        }
        guard !isDirectory.boolValue, info.st_mode & S_IFMT == S_IFREG else {
            throw CheckpointError.notAFile(path: path)
        }
        if info.st_size == 0 {
            throw CheckpointError.emptyFile(path: path)
        }
        guard access(path, R_OK) == 0 else {
            throw CheckpointError.io(path: path, operation: "open", detail: errnoMessage())
        }
    }

    /// Requires `format = "reverie"` and a `format_version` this build can read.
    private static func checkFormat(of file: HDF5File, path: String) throws {
        guard try file.hasAttribute("format") else {
            throw CheckpointError.notReverieCheckpoint(path: path, detail: "the root attribute 'format' is missing")
        }
        let format = try file.readAttribute("format")
        guard format == .string(Checkpoint.formatName) else {
            let found = format.map { "\($0)" } ?? "not a scalar"
            throw CheckpointError.notReverieCheckpoint(
                path: path, detail: "the root attribute 'format' is '\(found)', expected '\(Checkpoint.formatName)'")
        }
        guard try file.hasAttribute("format_version") else {
            throw CheckpointError.notReverieCheckpoint(
                path: path, detail: "the root attribute 'format_version' is missing")
        }
        guard case .int(let version)? = try file.readAttribute("format_version"), version >= 1 else {
            throw CheckpointError.notReverieCheckpoint(
                path: path, detail: "the root attribute 'format_version' is not a positive integer")
        }
        guard version <= Checkpoint.formatVersion else {
            throw CheckpointError.unsupportedFormatVersion(path: path, version: version)
        }
    }

    /// A guess at what a non-HDF5 file is, from its first bytes, for the error message.
    static func lookalike(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 512), !head.isEmpty else { return nil }
        let bytes = [UInt8](head)
        func starts(with prefix: [UInt8]) -> Bool { bytes.starts(with: prefix) }
        if starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "a PNG image" }
        if starts(with: [0xFF, 0xD8, 0xFF]) { return "a JPEG image" }
        if starts(with: Array("GIF8".utf8)) { return "a GIF image" }
        if starts(with: Array("PK\u{3}\u{4}".utf8)) { return "a zip archive, such as a PyTorch .pt/.bin file" }
        // safetensors: an 8-byte little-endian header length, then the JSON header.
        if bytes.count > 8, bytes[8] == UInt8(ascii: "{") { return "a safetensors file; use `reverie convert`" }
        let isText = bytes.allSatisfy { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 >= 0x20 && $0 != 0x7F }
        // The 512-byte cut may split a multi-byte character; allow up to three bytes of it.
        let isUTF8 = (0...3).contains { String(validating: bytes.dropLast($0), as: UTF8.self) != nil }
        if isText, isUTF8 { return "a text file" }
        return nil
    }
}
