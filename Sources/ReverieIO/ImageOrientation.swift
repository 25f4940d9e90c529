import Foundation

/// The EXIF orientation of a JPEG (tag 0x0112 of IFD0 in its APP1 `Exif` segment): how the stored pixels must be
/// turned to show the picture upright. Cameras store portrait photos sideways with orientation 6 or 8.
public enum ImageOrientation: Int, Sendable, CaseIterable {
    case upright = 1
    case mirrored, rotated180, flipped, transposed, rotated90, transverse, rotated270

    /// The orientation recorded in JPEG `bytes` (`.upright` when there is none, or for a PNG). Reads only the
    /// markers before the image data; a malformed segment counts as no orientation.
    public static func of(jpeg bytes: [UInt8]) -> ImageOrientation {
        guard bytes.count > 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return .upright }
        var i = 2
        while i + 4 <= bytes.count, bytes[i] == 0xFF {
            let marker = bytes[i + 1]
            if marker == 0xDA || marker == 0xD9 { break }  // start of scan / end of image: no more metadata
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard length >= 2, i + 2 + length <= bytes.count else { break }
            if marker == 0xE1, length >= 8, Array(bytes[(i + 4)..<(i + 10)]) == Array("Exif\0\0".utf8) {
                return tiffOrientation(Array(bytes[(i + 10)..<(i + 2 + length)])) ?? .upright
            }
            i += 2 + length
        }
        return .upright
    }

    /// The orientation tag of IFD0 in a TIFF structure (the body of an `Exif` segment).
    static func tiffOrientation(_ t: [UInt8]) -> ImageOrientation? {
        guard t.count >= 8 else { return nil }
        let little: Bool
        switch (t[0], t[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= t.count else { return nil }
            return little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for k in 0..<min(entries, 512) {
            let e = ifd + 2 + 12 * k
            guard let tag = u16(e) else { return nil }
            if tag == 0x0112, let type = u16(e + 2), type == 3, let value = u16(e + 8) {
                return ImageOrientation(rawValue: value)
            }
        }
        return nil
    }
}

extension Image {
    /// The image turned upright from `orientation` (Pillow's `ImageOps.exif_transpose`).
    public func applying(_ orientation: ImageOrientation) -> Image {
        let (w, h, c) = (width, height, channels.count)
        // Output (x, y) of an output image ow × oh reads source pixel map(x, y).
        let swap = [ImageOrientation.transposed, .rotated90, .transverse, .rotated270].contains(orientation)
        let (ow, oh) = swap ? (h, w) : (w, h)
        func source(_ x: Int, _ y: Int) -> Int {
            let (sx, sy): (Int, Int)
            switch orientation {
            case .upright: (sx, sy) = (x, y)
            case .mirrored: (sx, sy) = (w - 1 - x, y)
            case .rotated180: (sx, sy) = (w - 1 - x, h - 1 - y)
            case .flipped: (sx, sy) = (x, h - 1 - y)
            case .transposed: (sx, sy) = (y, x)
            case .rotated90: (sx, sy) = (y, h - 1 - x)
            case .transverse: (sx, sy) = (w - 1 - y, h - 1 - x)
            case .rotated270: (sx, sy) = (w - 1 - y, x)
            }
            return (sy * w + sx) * c
        }
        func remap<T>(_ values: [T]) -> [T] {
            var out = [T]()
            out.reserveCapacity(values.count)
            for y in 0..<oh {
                for x in 0..<ow {
                    let s = source(x, y)
                    for k in 0..<c { out.append(values[s + k]) }
                }
            }
            return out
        }
        guard orientation != .upright else { return self }
        switch pixels {
        case .uint8(let v): return Image(unchecked: ow, oh, channels, .uint8(remap(v)))
        case .float(let v): return Image(unchecked: ow, oh, channels, .float(remap(v)))
        }
    }

    /// Reads an image file and turns it upright by its EXIF orientation (JPEG), as a photo viewer shows it.
    public init(uprightContentsOf url: URL) throws {
        let image = try Image(contentsOf: url)
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            self = image
            return
        }
        defer { try? handle.close() }
        // Orientation lives in the first markers; 256 KiB holds any APP1 segment (at most 64 KiB) before them.
        let head = [UInt8]((try? handle.read(upToCount: 256 * 1024)) ?? Data())
        self = image.applying(ImageOrientation.of(jpeg: head))
    }
}
