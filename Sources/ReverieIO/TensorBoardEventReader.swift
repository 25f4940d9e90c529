import Foundation

/// One `Event` of a TensorBoard event file: its time and step, and what it holds.
public struct TensorBoardEvent: Equatable {
    public struct Image: Equatable {
        public let tag: String
        public let width: Int
        public let height: Int
        public let png: [UInt8]
    }

    public var wallTime = 0.0
    public var step = 0
    public var fileVersion: String?
    public var writer: String?
    public var scalars: [String: Float] = [:]
    public var images: [Image] = []
    /// A `SessionLog.START`: what earlier files logged at `step` and after is void.
    public var sessionStart = false
}

/// Reads TensorBoard event files (TensorBoard's or `TensorBoardEventWriter`'s), checking every record's CRCs. A
/// record cut short at the end (a writer still writing, or killed) ends the file; a damaged record is an error
/// naming the file and its offset.
public enum TensorBoardEventReader {
    public static func read(_ url: URL) throws -> [TensorBoardEvent] {
        let data = try [UInt8](Data(contentsOf: url))
        func fail(_ offset: Int, _ detail: String) -> TensorBoardEventError {
            TensorBoardEventError(file: url.path, detail: "record at byte \(offset): \(detail)")
        }
        func word<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            data[at..<(at + MemoryLayout<T>.size)].reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }
        var events: [TensorBoardEvent] = []
        var at = 0
        while data.count - at >= 12 {
            let length = word(at, UInt64.self)
            guard word(at + 8, UInt32.self) == CRC32C.masked(data[at..<(at + 8)]) else {
                throw fail(at, "the length's checksum does not match")
            }
            // Cut short (the writer's last record): the body and its checksum do not fit in what is left.
            guard data.count - at >= 16, length <= UInt64(data.count - at - 16) else { break }
            let body = data[(at + 12)..<(at + 12 + Int(length))]
            guard word(at + 12 + Int(length), UInt32.self) == CRC32C.masked(body) else {
                throw fail(at, "the event's checksum does not match")
            }
            do {
                events.append(try event(body))
            } catch {
                throw fail(at, "\(error)")
            }
            at += 16 + Int(length)
        }
        return events
    }

    static func event(_ body: ArraySlice<UInt8>) throws -> TensorBoardEvent {
        var e = TensorBoardEvent()
        let fields = try ProtobufFields(body)
        if case .fixed64(let bits) = fields.last(1) { e.wallTime = Double(bitPattern: bits) }
        if case .varint(let v) = fields.last(2) { e.step = Int(truncatingIfNeeded: Int64(bitPattern: v)) }
        if case .bytes(let s) = fields.last(3) { e.fileVersion = String(decoding: s, as: UTF8.self) }
        if case .bytes(let s) = fields.last(10), case .bytes(let w) = try ProtobufFields(s).last(1) {
            e.writer = String(decoding: w, as: UTF8.self)
        }
        if case .bytes(let s) = fields.last(7), case .varint(1) = try ProtobufFields(s).last(1) {
            e.sessionStart = true
        }
        if case .bytes(let summary) = fields.last(5) {
            for case .bytes(let v) in try ProtobufFields(summary).all(1) {
                let value = try ProtobufFields(v)
                guard case .bytes(let t) = value.last(1) else { continue }
                let tag = String(decoding: t, as: UTF8.self)
                if case .bytes(let i) = value.last(4) {
                    let image = try ProtobufFields(i)
                    func int(_ n: Int) -> Int {
                        if case .varint(let x) = image.last(n) { return Int(truncatingIfNeeded: Int64(bitPattern: x)) }
                        return 0
                    }
                    var png: [UInt8] = []
                    if case .bytes(let p) = image.last(4) { png = Array(p) }
                    e.images.append(.init(tag: tag, width: int(2), height: int(1), png: png))
                } else if case .fixed32(let bits) = value.last(2) {
                    e.scalars[tag] = Float(bitPattern: bits)
                } else if value.last(8) == nil {  // not a tensor summary: proto3 left a zero simple_value out
                    e.scalars[tag] = 0
                }
            }
        }
        return e
    }
}
