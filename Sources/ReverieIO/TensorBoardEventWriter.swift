import Foundation

/// Writes a TensorBoard event file (`events.out.tfevents.*`): TFRecord framing (length, masked CRC-32C of the
/// length, the serialized `Event`, masked CRC-32C of it) around `Event` messages holding scalar and image summaries,
/// as TensorBoard's own `EventFileWriter` writes them. Each event reaches the file when it is written, so TensorBoard
/// (or `reverie serve --runs`) follows a run as it trains.
public final class TensorBoardEventWriter {
    public let url: URL
    private let handle: FileHandle

    /// A new event file in `directory`, named as TensorBoard names them (time, host, process, a counter of the files
    /// this process opened), opened with its file-version event (and `writer` as the source). An existing file of the
    /// same name is refused, not replaced.
    public init(
        directory: URL, wallTime: Double = Date().timeIntervalSince1970, writer: String = "reverie",
        suffix: String = ""
    ) throws {
        let host = ProcessInfo.processInfo.hostName
        let name =
            String(format: "events.out.tfevents.%010d.", Int(wallTime))
            + "\(host).\(getpid()).\(Self.opened.next())\(suffix)"
        url = directory.appendingPathComponent(name)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw TensorBoardEventError(
                file: url.path, detail: "cannot create the event file: \(String(cString: strerror(errno)))")
        }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var source = ProtobufWriter()
        source.string(1, writer)
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.string(3, "brain.Event:2")
        event.message(10, source)
        try write(event)
    }

    /// One scalar (`Summary.Value.simple_value`) at `step`.
    public func scalar(_ tag: String, _ value: Float, step: Int, wallTime: Double = Date().timeIntervalSince1970)
        throws
    {
        var v = ProtobufWriter()
        v.string(1, tag)
        v.float(2, value)
        try summary(v, step: step, wallTime: wallTime)
    }

    /// One image (`Summary.Image`, RGB) from its encoded PNG bytes, at `step`.
    public func image(
        _ tag: String, png: [UInt8], width: Int, height: Int, step: Int,
        wallTime: Double = Date().timeIntervalSince1970
    ) throws {
        var image = ProtobufWriter()
        image.int(1, height)
        image.int(2, width)
        image.int(3, 3)
        image.bytes(4, png)
        var v = ProtobufWriter()
        v.string(1, tag)
        v.message(4, image)
        try summary(v, step: step, wallTime: wallTime)
    }

    /// `SessionLog.START` at `step`: TensorBoard drops what earlier files logged at this step and after (a run
    /// resumed from a checkpoint older than its last logged step).
    public func sessionStart(step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        var log = ProtobufWriter()
        log.int(1, 1)
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.int(2, step)
        event.message(7, log)
        try write(event)
    }

    func summary(_ value: ProtobufWriter, step: Int, wallTime: Double) throws {
        var summary = ProtobufWriter()
        summary.message(1, value)
        var event = ProtobufWriter()
        event.double(1, wallTime)
        event.int(2, step)
        event.message(5, summary)
        try write(event)
    }

    func write(_ event: ProtobufWriter) throws {
        let length = withUnsafeBytes(of: UInt64(event.bytes.count).littleEndian) { Array($0) }
        var record = length
        withUnsafeBytes(of: CRC32C.masked(length).littleEndian) { record += $0 }
        record += event.bytes
        withUnsafeBytes(of: CRC32C.masked(event.bytes).littleEndian) { record += $0 }
        do {
            try handle.write(contentsOf: record)
        } catch {
            throw TensorBoardEventError(file: url.path, detail: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Event files opened by this process (TensorBoard's `_global_uid`).
    private static let opened = Counter()

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.withLock {
                defer { value += 1 }
                return value
            }
        }
    }
}

/// An event file that cannot be written or read; names the file (and the byte offset of a bad record).
public struct TensorBoardEventError: Error, CustomStringConvertible {
    public let file: String
    public let detail: String
    public var description: String { "\(file): \(detail)" }
}
