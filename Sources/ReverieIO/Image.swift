/// The channel layout of an ``Image``'s interleaved pixels.
public enum ImageChannels: Int, Sendable, CaseIterable {
    case gray = 1
    case grayAlpha = 2
    case rgb = 3
    case rgba = 4

    /// Samples per pixel.
    public var count: Int { rawValue }
    /// Whether the last sample of each pixel is alpha.
    public var hasAlpha: Bool { self == .grayAlpha || self == .rgba }

    /// The layout with `count` samples per pixel, or nil for a count outside 1...4.
    public init?(count: Int) { self.init(rawValue: count) }
}

/// Pixel samples, interleaved row-major (`[H, W, C]`): 8-bit bytes, or floats with 1.0 as full intensity.
public enum ImagePixels: Sendable, Equatable {
    case uint8([UInt8])
    /// Floats in [0, 1] for decoded or converted images; resampling may overshoot slightly (bicubic ringing).
    case float([Float])

    /// Number of samples.
    public var count: Int {
        switch self {
        case .uint8(let values): return values.count
        case .float(let values): return values.count
        }
    }
}

/// A decoded raster image: `height` rows of `width` pixels, interleaved samples in ``ImagePixels``.
///
/// Decoding keeps the file's layout (gray stays gray; palettes expand to RGB or RGBA; 8-bit files decode to
/// ``ImagePixels/uint8(_:)``, 16-bit files to ``ImagePixels/float(_:)`` so no precision is lost). Convert with
/// ``converted(to:)``, to a tensor with ``tensor()``, and resample with ``resized(width:height:filter:)``.
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: ImageChannels
    public let pixels: ImagePixels

    /// An image from interleaved samples. Throws if the sample count is not `width · height · channels`.
    public init(width: Int, height: Int, channels: ImageChannels, pixels: ImagePixels) throws {
        guard width > 0, height > 0 else {
            throw ImageError.invalidArgument(operation: "Image", detail: "size \(width)x\(height) is not positive")
        }
        guard pixels.count == width * height * channels.count else {
            throw ImageError.invalidArgument(
                operation: "Image",
                detail: "\(pixels.count) samples for \(width)x\(height) with \(channels.count) channels")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Internal construction where the sample count is known to be right.
    init(unchecked width: Int, _ height: Int, _ channels: ImageChannels, _ pixels: ImagePixels) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A `width × height` image filled with one colour (one value per channel, in [0, 1]).
    public init(width: Int, height: Int, filledWith color: [Float]) throws {
        guard let layout = ImageChannels(count: color.count) else {
            throw ImageError.invalidArgument(operation: "Image(filledWith:)", detail: "\(color.count) channel values")
        }
        let bytes = color.map { quantize($0) }
        var values = [UInt8](repeating: 0, count: max(width, 0) * max(height, 0) * color.count)
        for i in 0..<values.count { values[i] = bytes[i % color.count] }
        try self.init(width: width, height: height, channels: layout, pixels: .uint8(values))
    }

    /// True when the samples are bytes.
    public var isUInt8: Bool {
        if case .uint8 = pixels { return true }
        return false
    }

    /// The samples as bytes; float samples are clamped to [0, 1] and rounded (`round(v · 255)`).
    public var bytes: [UInt8] {
        switch pixels {
        case .uint8(let values): return values
        case .float(let values): return values.map { quantize($0) }
        }
    }

    /// The samples as floats in [0, 1] (bytes divided by 255).
    public var floats: [Float] {
        switch pixels {
        case .uint8(let values): return values.map { Float($0) / 255 }
        case .float(let values): return values
        }
    }

    /// The same image with 8-bit samples.
    public func toUInt8() -> Image { isUInt8 ? self : Image(unchecked: width, height, channels, .uint8(bytes)) }

    /// The same image with float samples in [0, 1].
    public func toFloat() -> Image { isUInt8 ? Image(unchecked: width, height, channels, .float(floats)) : self }

    /// Sample at row `y`, column `x`, channel `c`, in [0, 1] (for tests and debugging; not for hot loops).
    public subscript(y y: Int, x x: Int, c c: Int) -> Float {
        let i = (y * width + x) * channels.count + c
        switch pixels {
        case .uint8(let values): return Float(values[i]) / 255
        case .float(let values): return values[i]
        }
    }
}

/// A float in [0, 1] as a byte: clamped, then rounded to nearest.
@inlinable func quantize(_ value: Float) -> UInt8 {
    let scaled = value * 255
    if !(scaled > 0) { return 0 }  // also maps NaN to 0
    if scaled >= 255 { return 255 }
    return UInt8(scaled.rounded())
}
