import Foundation
import ReverieCore

/// The element types of a safetensors file that Reverie reads, each widened to Float32 on load.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    public var size: Int { self == .f32 ? 4 : 2 }
}

/// Where one tensor lives in a safetensors file.
public struct SafetensorsEntry: Sendable, Equatable {
    public var dtype: SafetensorsDType
    public var shape: [Int]
    /// Byte range relative to the start of the data section (just after the header).
    public var dataOffsets: Range<Int>
}

/// One `.safetensors` file (the Hugging Face format): an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the raw little-endian data.
///
/// Opening validates the whole header (every tensor's byte range against its dtype and shape, and against the file
/// size), so a later `tensor(_:)` can only fail on a name or shape the caller got wrong. The file is memory-mapped;
/// tensors are copied (and widened to Float32) when read.
///
/// ```swift
/// let file = try SafetensorsFile(url: dir.appendingPathComponent("model.safetensors"))
/// let w = try file.tensor("model.embed_tokens.weight", shape: [vocab, dim])
/// ```
public struct SafetensorsFile: @unchecked Sendable {
    public let url: URL
    /// The header's `__metadata__` strings (for example `format: pt`).
    public let metadata: [String: String]
    /// Every tensor of the file by name.
    public let entries: [String: SafetensorsEntry]
    private let data: Data
    private let dataStart: Int

    public init(url: URL) throws {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw SafetensorsError.fileNotFound(path: path) }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw SafetensorsError.io(path: path, detail: "cannot read: \(error.localizedDescription)")
        }
        guard data.count >= 8 else {
            throw SafetensorsError.truncated(
                path: path, tensor: nil, detail: "\(data.count) bytes, shorter than the 8-byte header length")
        }
        let headerLength = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> UInt64 in
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(raw[i]) << (8 * UInt64(i)) }
            return n
        }
        // The format caps the header at 100 MB; anything larger is a corrupt length (or not a safetensors file).
        guard headerLength > 0, headerLength <= 100_000_000 else {
            throw SafetensorsError.badHeader(path: path, detail: "header length \(headerLength) is out of range")
        }
        guard 8 + Int(headerLength) <= data.count else {
            throw SafetensorsError.truncated(
                path: path, tensor: nil,
                detail: "header of \(headerLength) bytes but only \(data.count - 8) bytes follow the length")
        }
        let headerBytes = data.subdata(in: 8..<(8 + Int(headerLength)))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw SafetensorsError.badHeader(path: path, detail: "header is not valid JSON")
        }
        guard let header = json as? [String: Any] else {
            throw SafetensorsError.badHeader(path: path, detail: "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [String: SafetensorsEntry] = [:]
        let dataLength = data.count - 8 - Int(headerLength)
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else {
                    throw SafetensorsError.badHeader(path: path, detail: "__metadata__ must map strings to strings")
                }
                metadata = m
                continue
            }
            let entry = try Self.parseEntry(name, value, path: path)
            guard entry.dataOffsets.upperBound <= dataLength else {
                throw SafetensorsError.truncated(
                    path: path, tensor: name,
                    detail: "data ends at byte \(entry.dataOffsets.upperBound) of the data section, "
                        + "which has only \(dataLength) bytes")
            }
            entries[name] = entry
        }
        // Tensors share no bytes (the format lays them end to end); overlapping ones are a forged or corrupt header.
        let spans = entries.filter { !$0.value.dataOffsets.isEmpty }.sorted {
            $0.value.dataOffsets.lowerBound < $1.value.dataOffsets.lowerBound
        }
        for (a, b) in zip(spans, spans.dropFirst())
        where b.value.dataOffsets.lowerBound < a.value.dataOffsets.upperBound {
            throw SafetensorsError.badHeader(
                path: path, detail: "tensors '\(a.key)' and '\(b.key)' overlap in the data section")
        }
        (self.url, self.metadata, self.entries, self.data) = (url, metadata, entries, data)
        dataStart = 8 + Int(headerLength)
    }

    private static func parseEntry(_ name: String, _ value: Any, path: String) throws -> SafetensorsEntry {
        func bad(_ detail: String) -> SafetensorsError {
            .badHeader(path: path, detail: "tensor '\(name)': \(detail)")
        }
        guard let fields = value as? [String: Any] else { throw bad("entry is not a JSON object") }
        guard let dtypeName = fields["dtype"] as? String else { throw bad("missing string 'dtype'") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
        }
        guard let shapeValues = fields["shape"] as? [Any], let shape = integers(shapeValues),
            shape.allSatisfy({ $0 >= 0 })
        else { throw bad("'shape' must be an array of non-negative integers") }
        guard let offsetValues = fields["data_offsets"] as? [Any], let offsets = integers(offsetValues),
            offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1]
        else { throw bad("'data_offsets' must be [begin, end] with 0 ≤ begin ≤ end") }
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("shape \(shapeString(shape)) overflows") }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else { throw bad("shape \(shapeString(shape)) overflows") }
        guard offsets[1] - offsets[0] == bytes else {
            throw bad(
                "\(dtypeName) \(shapeString(shape)) needs \(bytes) bytes, "
                    + "data_offsets span \(offsets[1] - offsets[0])")
        }
        return SafetensorsEntry(dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
    }

    /// Integers from a JSON array (NSNumber on Linux and Darwin alike); nil if any element is not an integer.
    private static func integers(_ values: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in values {
            guard let n = v as? NSNumber, let i = Int(exactly: n.doubleValue) else { return nil }
            out.append(i)
        }
        return out
    }

    /// Tensor names in natural order (`layers.2` before `layers.10`).
    public var tensorNames: [String] { entries.keys.sorted(by: naturalKeyOrder) }

    /// The tensor `name` widened to Float32. Throws `missingTensor` if absent, `shapeMismatch` if `shape` is given
    /// and differs from the stored shape.
    /// Refuses a tensor holding NaN or infinite values (weights a model cannot run with) unless `allowNonFinite`.
    public func tensor(_ name: String, shape expected: [Int]? = nil, allowNonFinite: Bool = false) throws -> Tensor {
        guard let entry = entries[name] else { throw SafetensorsError.missingTensor(path: url.path, tensor: name) }
        if let expected, expected != entry.shape {
            throw SafetensorsError.shapeMismatch(path: url.path, tensor: name, expected: expected, found: entry.shape)
        }
        let out = Tensor(zeros: entry.shape)
        let start = dataStart + entry.dataOffsets.lowerBound
        data.withUnsafeBytes { raw in
            widenToFloat32(
                UnsafeRawBufferPointer(rebasing: raw[start..<(start + entry.dataOffsets.count)]),
                dtype: entry.dtype, into: out.mutableBuffer)
        }
        if !allowNonFinite, let first = out.buffer.firstIndex(where: { !$0.isFinite }) {
            let count = out.buffer.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
            throw SafetensorsError.nonFinite(path: url.path, tensor: name, count: count, index: first)
        }
        return out
    }

    /// Every tensor of the file, widened to Float32.
    public func tensors() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for name in entries.keys { out[name] = try tensor(name) }
        return out
    }
}
