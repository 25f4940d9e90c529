import CImageCodecs
import Foundation

/// The encoded formats Reverie reads, recognised by their magic bytes.
public enum ImageFormat: String, Sendable {
    case png = "PNG"
    case jpeg = "JPEG"

    /// The format whose signature starts `bytes`, or nil.
    public init?(sniffing bytes: [UInt8]) {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else {
            return nil
        }
    }
}

/// How large an image Reverie decodes. A PNG or JPEG header of a few bytes can declare a canvas of a billion pixels;
/// decoding it would reserve gigabytes, so larger images are refused before decoding. The default, 2^27 pixels
/// (134 M, e.g. 11585 × 11585; Pillow refuses at 179 M), holds any camera's photo; `REVERIE_MAX_IMAGE_PIXELS` sets
/// another.
public enum ImageLimits {
    public static let defaultMaxPixels = 1 << 27

    /// `REVERIE_MAX_IMAGE_PIXELS` when it holds a positive integer, else the default.
    public static let maxPixels: Int = {
        ProcessInfo.processInfo.environment["REVERIE_MAX_IMAGE_PIXELS"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }
            ?? defaultMaxPixels
    }()
}

extension Image {
    /// Reads a PNG or JPEG file. The format comes from the file's magic bytes, never its extension.
    ///
    /// PNG: 1–16-bit gray, gray+alpha, RGB, RGBA and palette (expanded to RGB, or RGBA with a tRNS chunk);
    /// interlaced or not. JPEG: baseline and progressive, gray, YCbCr and CMYK, decoded with libjpeg's defaults
    /// exactly as Pillow decodes them. Throws ``ImageError`` naming the file for a missing, empty, truncated,
    /// corrupt or unrecognised file.
    public init(contentsOf url: URL) throws {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageError.fileNotFound(path: path)
        }
        // Directories, FIFOs and devices (a /dev/zero would be read forever) are not image files.
        // stat(2) follows symbolic links: a link to an image is that image.
        var info = stat()
        let isRegular = stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
        guard !isDirectory.boolValue, isRegular else { throw ImageError.notAFile(path: path) }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImageError.io(path: path, operation: "read", detail: error.localizedDescription)
        }
        try self.init(encoded: [UInt8](data), path: path)
    }

    /// Reads a PNG or JPEG file at `path` (see ``init(contentsOf:)``).
    public init(path: String) throws {
        try self.init(contentsOf: URL(fileURLWithPath: path))
    }

    /// Decodes PNG or JPEG bytes held in memory; `path` names the source in error messages.
    public init(encoded bytes: [UInt8], path: String = "<memory>", maxPixels: Int = ImageLimits.maxPixels) throws {
        guard !bytes.isEmpty else { throw ImageError.emptyFile(path: path) }
        guard let format = ImageFormat(sniffing: bytes) else {
            throw ImageError.unsupportedFormat(path: path, lookalike: describeLookalike(bytes))
        }
        var decoded = reverie_decoded_image()
        let limit = maxPixels
        var message = [CChar](repeating: 0, count: Int(REVERIE_CODEC_MESSAGE_SIZE))
        let status = bytes.withUnsafeBufferPointer { buffer in
            message.withUnsafeMutableBufferPointer { text in
                switch format {
                case .png:
                    return reverie_png_decode(buffer.baseAddress, buffer.count, limit, &decoded, text.baseAddress)
                case .jpeg:
                    return reverie_jpeg_decode(buffer.baseAddress, buffer.count, limit, &decoded, text.baseAddress)
                }
            }
        }
        defer { reverie_codec_free(decoded.pixels) }
        if status == 2 {
            throw ImageError.tooManyPixels(
                path: path, width: Int(decoded.width), height: Int(decoded.height), limit: Int(limit))
        }
        guard status == 0, let raw = decoded.pixels,
            let layout = ImageChannels(count: Int(decoded.channels)), decoded.width > 0, decoded.height > 0
        else {
            let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageError.corruptFile(
                path: path, format: format.rawValue, detail: detail.isEmpty ? "unknown error" : detail)
        }
        let count = Int(decoded.width) * Int(decoded.height) * layout.count
        let pixels: ImagePixels
        if decoded.bit_depth == 16 {
            let samples = UnsafeRawPointer(raw).bindMemory(to: UInt16.self, capacity: count)
            pixels = .float((0..<count).map { Float(samples[$0]) / 65535 })
        } else {
            pixels = .uint8(Array(UnsafeBufferPointer(start: raw, count: count)))
        }
        self.init(unchecked: Int(decoded.width), Int(decoded.height), layout, pixels)
    }

    /// Writes the image as a PNG: 8-bit for byte images, 16-bit for float images unless `bitDepth` says 8.
    /// The file is written to a temporary name and renamed into place, so a failure never leaves half a file.
    public func writePNG(to url: URL, bitDepth: Int? = nil) throws {
        let path = url.path
        let depth = bitDepth ?? (isUInt8 ? 8 : 16)
        guard depth == 8 || depth == 16 else {
            throw ImageError.invalidArgument(operation: "writePNG", detail: "bit depth \(depth) (8 or 16)")
        }
        let encoded = try encodePNG(bitDepth: depth, path: path)
        if let problem = OutputDestination.problem(url) {
            throw ImageError.io(path: path, operation: "write", detail: problem)
        }
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try Data(encoded).write(to: temporary)
            // rename(2) replaces an existing file atomically (Foundation's replaceItemAt lost it on Linux).
            guard rename(temporary.path, url.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw ImageError.io(path: path, operation: "rename", detail: reason)
            }
        } catch let error as ImageError {
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ImageError.io(path: path, operation: "write", detail: error.localizedDescription)
        }
    }

    /// The image encoded as PNG bytes (8- or 16-bit samples).
    public func encodePNG(bitDepth: Int = 8, path: String = "<memory>") throws -> [UInt8] {
        var message = [CChar](repeating: 0, count: Int(REVERIE_CODEC_MESSAGE_SIZE))
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status: Int32
        if bitDepth == 16 {
            let samples = floats.map { UInt16((min(max($0, 0), 1) * 65535).rounded()) }
            status = samples.withUnsafeBytes { raw in
                message.withUnsafeMutableBufferPointer { text in
                    reverie_png_encode(
                        raw.bindMemory(to: UInt8.self).baseAddress, Int32(width), Int32(height),
                        Int32(channels.count), 16, &output, &size, text.baseAddress)
                }
            }
        } else {
            let samples = bytes
            status = samples.withUnsafeBufferPointer { buffer in
                message.withUnsafeMutableBufferPointer { text in
                    reverie_png_encode(
                        buffer.baseAddress, Int32(width), Int32(height), Int32(channels.count), 8,
                        &output, &size, text.baseAddress)
                }
            }
        }
        defer { reverie_codec_free(output) }
        guard status == 0, let output else {
            let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageError.encodingFailed(path: path, detail: detail)
        }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }
}

/// What a non-image file seems to be, for the error message.
private func describeLookalike(_ bytes: [UInt8]) -> String? {
    let signatures: [([UInt8], String)] = [
        ([0x89, 0x48, 0x44, 0x46], "an HDF5 file"), ([0x47, 0x49, 0x46, 0x38], "a GIF image"),
        ([0x52, 0x49, 0x46, 0x46], "a RIFF/WebP file"), ([0x42, 0x4D], "a BMP image"),
        ([0x25, 0x50, 0x44, 0x46], "a PDF document"), ([0x50, 0x4B, 0x03, 0x04], "a ZIP archive"),
        ([0x49, 0x49, 0x2A, 0x00], "a TIFF image"), ([0x4D, 0x4D, 0x00, 0x2A], "a TIFF image"),
    ]
    for (magic, name) in signatures where bytes.starts(with: magic) { return name }
    let head = bytes.prefix(512)
    if head.allSatisfy({ $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || (0x20..<0x7F).contains($0) || $0 >= 0x80 }) {
        return "text"
    }
    return nil
}
