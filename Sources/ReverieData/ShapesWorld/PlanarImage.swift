import ReverieCore

/// A square RGB image stored as three planes of Float in [0, 1], the layout of a `[3, N, N]` tensor.
///
/// ShapesWorld renders into it and the evaluator reads from it; ``tensor()`` and ``rgbBytes()`` hand it to models
/// and image writers.
public struct PlanarImage: Sendable, Equatable, Codable {
    /// Width and height in pixels.
    public let size: Int
    /// `3 * size * size` values: the red plane, then green, then blue, each row-major.
    public var pixels: [Float]

    /// An image filled with `color`.
    public init(size: Int, filledWith color: RGB) {
        self.size = size
        let n = size * size
        var p = [Float](repeating: color.r, count: 3 * n)
        for i in n..<(2 * n) { p[i] = color.g }
        for i in (2 * n)..<(3 * n) { p[i] = color.b }
        pixels = p
    }

    /// Copies a `[3, N, N]` tensor. Throws ``ShapesWorldError/badImageShape(_:)`` for any other shape.
    public init(tensor: Tensor) throws {
        let s = tensor.shape
        guard s.count == 3, s[0] == 3, s[1] == s[2], s[1] >= 12 else { throw ShapesWorldError.badImageShape(s) }
        size = s[1]
        pixels = tensor.toArray()
    }

    /// Splits a `[B, 3, N, N]` batch (a decoder's output) into its images.
    public static func images(fromBatch tensor: Tensor) throws -> [PlanarImage] {
        let s = tensor.shape
        guard s.count == 4, s[1] == 3, s[2] == s[3], s[2] >= 12 else { throw ShapesWorldError.badImageShape(s) }
        let per = 3 * s[2] * s[2], all = tensor.toArray()
        return (0..<s[0]).map { b in
            var image = PlanarImage(size: s[2], filledWith: RGB(0, 0, 0))
            image.pixels = Array(all[(b * per)..<((b + 1) * per)])
            return image
        }
    }

    /// Reads interleaved 8-bit RGB bytes (`RGBRGB…`, row-major) of a `size`×`size` image.
    public init(size: Int, rgbBytes bytes: [UInt8]) throws {
        guard size >= 12, bytes.count == 3 * size * size else {
            throw ShapesWorldError.badImageShape([bytes.count / max(size * size, 1), size, size])
        }
        self.size = size
        let n = size * size
        var p = [Float](repeating: 0, count: 3 * n)
        for i in 0..<n {
            for c in 0..<3 { p[c * n + i] = Float(bytes[3 * i + c]) / 255 }
        }
        pixels = p
    }

    /// The colour at column `x`, row `y`.
    @inlinable public func pixel(_ x: Int, _ y: Int) -> RGB {
        let n = size * size, i = y * size + x
        return RGB(pixels[i], pixels[n + i], pixels[2 * n + i])
    }

    /// The image as a `[3, N, N]` tensor.
    public func tensor() -> Tensor {
        let t = Tensor(uninitialized: [3, size, size])
        pixels.withUnsafeBufferPointer { src in
            for i in 0..<src.count { t.pointer[i] = src[i] }
        }
        return t
    }

    /// Interleaved 8-bit RGB bytes (`RGBRGB…`, row-major), rounded and clamped.
    public func rgbBytes() -> [UInt8] {
        let n = size * size
        var out = [UInt8](repeating: 0, count: 3 * n)
        for i in 0..<n {
            for c in 0..<3 {
                let v = min(max(pixels[c * n + i], 0), 1)
                out[3 * i + c] = UInt8((v * 255).rounded())
            }
        }
        return out
    }
}
