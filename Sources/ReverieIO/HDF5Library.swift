import CHDF5
import Foundation

/// Process-wide access to the HDF5 C library.
///
/// Debian's `libhdf5` is the serial build, which is not thread-safe, so every public entry point of ReverieIO that
/// touches HDF5 runs inside `withLock`. Handles (`HDF5File`, `HDF5Group`, …) never escape such a block, so their
/// `deinit`s also run under the lock.
enum HDF5Library {
    private static let lock = NSRecursiveLock()

    /// HDF5 registers an exit handler that closes every object still open. A file whose close failed (a full disk)
    /// stays open inside the library, and the handler's second attempt to flush it crashed the process after the
    /// error had been reported. Reverie closes every file it opens, so the handler is switched off before the
    /// library's first use.
    private static let exitHandlerDisabled: Bool = {
        _ = H5dont_atexit()
        return true
    }()

    /// Runs `body` while holding the library lock, with HDF5's automatic stderr error printing switched off.
    static func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = exitHandlerDisabled
        // Cheap, and per-thread in thread-safe builds of HDF5, so it is repeated rather than done once.
        _ = reverie_silence_hdf5_errors()
        return try body()
    }

    /// The most specific message on HDF5's error stack, or an empty string. Valid only right after a failed call.
    static func lastErrorMessage() -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        guard reverie_h5_error_message(&buffer, buffer.count) != 0 else { return "" }
        return decodeCString(buffer)
    }
}

/// A failed HDF5 call: what Reverie was doing and the library's own explanation. Checkpoint functions turn it into a
/// `CheckpointError.hdf5` that also names the file.
struct HDF5Error: Error, CustomStringConvertible {
    let operation: String
    let detail: String

    init(_ operation: String) {
        self.operation = operation
        self.detail = HDF5Library.lastErrorMessage()
    }

    var description: String { detail.isEmpty ? operation : "\(operation): \(detail)" }
}

/// Throws an `HDF5Error` if an `herr_t` / `htri_t` status is negative; returns the status otherwise.
@discardableResult
func h5check(_ status: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    guard status >= 0 else { throw HDF5Error(operation()) }
    return status
}

/// Throws an `HDF5Error` if an identifier returned by HDF5 is invalid; returns it otherwise.
func h5id(_ id: hid_t, _ operation: @autoclosure () -> String) throws -> hid_t {
    guard id >= 0 else { throw HDF5Error(operation()) }
    return id
}

/// Decodes a NUL-terminated (or NUL-padded) C buffer as UTF-8, replacing invalid sequences.
func decodeCString<C: Collection>(_ buffer: C) -> String where C.Element == CChar {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
