import Foundation
import ReverieCore

extension SafetensorsFile {
    /// Writes `tensors` as a safetensors file (names sorted, data in the same order, 8-byte aligned header as the
    /// reference implementation pads it), narrowing to `dtype` with round-to-nearest-even. The file is written
    /// beside `url` under a temporary name and renamed, so a failure leaves no partial file.
    public static func write(
        _ tensors: [String: Tensor], to url: URL, dtype: SafetensorsDType = .f32,
        metadata: [String: String] = [:]
    ) throws {
        let names = tensors.keys.sorted(by: naturalKeyOrder)
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for name in names {
            let t = tensors[name]!  // names come from tensors.keys
            let bytes = t.count * dtype.size
            header[name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(headerBytes)
        for name in names {
            let values = tensors[name]!.buffer
            switch dtype {
            case .f32:
                for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            case .f16:
                for v in values { withUnsafeBytes(of: float16Bits(v).littleEndian) { data.append(contentsOf: $0) } }
            case .bf16:
                for v in values { withUnsafeBytes(of: bfloat16Bits(v).littleEndian) { data.append(contentsOf: $0) } }
            }
        }
        if let problem = OutputDestination.problem(url) {
            throw SafetensorsError.io(path: url.path, detail: problem)
        }
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try data.write(to: temporary)
            // POSIX rename replaces an existing file atomically (Foundation's replaceItemAt fails on Linux).
            guard rename(temporary.path, url.path) == 0 else {
                throw SafetensorsError.io(path: url.path, detail: "rename failed: \(String(cString: strerror(errno)))")
            }
        } catch let error as SafetensorsError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw SafetensorsError.io(path: url.path, detail: "cannot write: \(error.localizedDescription)")
        }
    }
}
