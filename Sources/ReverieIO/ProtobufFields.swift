/// The few protocol-buffer wire encodings TensorBoard's `Event` and `Summary` messages need, written and read by
/// hand (no generated code, no dependency). As proto3 does, a field holding its default value is not written.
public struct ProtobufWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// An int32 or int64 field (negative values take ten bytes, as protobuf's two's-complement varint does).
    public mutating func int(_ field: Int, _ value: Int) {
        guard value != 0 else { return }
        key(field, 0)
        varint(UInt64(bitPattern: Int64(value)))
    }

    public mutating func double(_ field: Int, _ value: Double) {
        guard value.bitPattern != 0 else { return }
        key(field, 1)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }

    public mutating func float(_ field: Int, _ value: Float) {
        guard value.bitPattern != 0 else { return }
        key(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }

    public mutating func bytes<Bytes: Collection>(_ field: Int, _ value: Bytes) where Bytes.Element == UInt8 {
        guard !value.isEmpty else { return }
        key(field, 2)
        varint(UInt64(value.count))
        bytes += value
    }

    public mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    /// A nested message (written even when empty, as protobuf writes a set sub-message).
    public mutating func message(_ field: Int, _ value: ProtobufWriter) {
        key(field, 2)
        varint(UInt64(value.bytes.count))
        bytes += value.bytes
    }
}

/// A message's fields in order: number and value (varints as integers, fixed-width values as their bits,
/// length-delimited values as bytes). Malformed input throws; nothing is trusted.
public struct ProtobufFields {
    public enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(ArraySlice<UInt8>)
    }

    public struct Malformed: Error, CustomStringConvertible {
        public let detail: String
        public var description: String { "malformed protocol buffer: \(detail)" }
    }

    public let fields: [(number: Int, value: Value)]

    public init(_ data: ArraySlice<UInt8>) throws {
        var fields: [(Int, Value)] = []
        var i = data.startIndex
        func varint() throws -> UInt64 {
            var result: UInt64 = 0
            for shift in stride(from: 0, to: 70, by: 7) {
                guard i < data.endIndex else { throw Malformed(detail: "a varint runs past the end") }
                let b = data[i]
                i += 1
                guard shift < 64 else { throw Malformed(detail: "a varint longer than ten bytes") }
                result |= UInt64(b & 0x7F) << UInt64(shift)
                if b < 0x80 { return result }
            }
            throw Malformed(detail: "a varint longer than ten bytes")
        }
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, data.endIndex - i >= n else { throw Malformed(detail: "a field runs past the end") }
            defer { i += n }
            return data[i..<(i + n)]
        }
        func little(_ s: ArraySlice<UInt8>) -> UInt64 { s.reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        while i < data.endIndex {
            let key = try varint()
            let number = Int(truncatingIfNeeded: key >> 3)
            switch key & 7 {
            case 0: fields.append((number, .varint(try varint())))
            case 1: fields.append((number, .fixed64(little(try take(8)))))
            case 5: fields.append((number, .fixed32(UInt32(little(try take(4))))))
            case 2:
                let length = try varint()
                guard length <= UInt64(data.count) else { throw Malformed(detail: "a length of \(length) bytes") }
                fields.append((number, .bytes(try take(Int(length)))))
            default: throw Malformed(detail: "wire type \(key & 7) of field \(number)")
            }
        }
        self.fields = fields
    }

    /// The last value of field `number` (protobuf's rule for a repeated scalar read as one).
    public func last(_ number: Int) -> Value? { fields.last { $0.number == number }?.value }

    /// Every value of field `number`, in order.
    public func all(_ number: Int) -> [Value] { fields.filter { $0.number == number }.map(\.value) }
}
