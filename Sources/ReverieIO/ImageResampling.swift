import Foundation

/// A resampling filter for ``Image/resized(width:height:filter:)``, with Pillow's kernels and supports.
public enum ResampleFilter: String, Sendable, CaseIterable {
    /// Pillow's `Resampling.BOX` (support 0.5).
    case box
    /// Pillow's `Resampling.BILINEAR`: the triangle kernel (support 1).
    case bilinear
    /// Pillow's `Resampling.BICUBIC`: Keys' cubic with a = −0.5 (support 2).
    case bicubic
    /// Pillow's `Resampling.LANCZOS`: Lanczos-3 (support 3).
    case lanczos

    var support: Double {
        switch self {
        case .box: return 0.5
        case .bilinear: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    func weight(_ t: Double) -> Double {
        switch self {
        case .box:
            return t > -0.5 && t <= 0.5 ? 1 : 0
        case .bilinear:
            let x = abs(t)
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            let x = abs(t)
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        case .lanczos:
            return (-3 <= t && t < 3) ? sinc(t) * sinc(t / 3) : 0
        }
    }
}

private func sinc(_ t: Double) -> Double {
    if t == 0 { return 1 }
    let x = t * Double.pi
    return sin(x) / x
}

/// The taps of a one-dimensional resampling from `inSize` to `outSize` samples, computed as Pillow's
/// `precompute_coeffs` does: when shrinking, the kernel is stretched by the scale factor (antialiasing), each
/// output's weights are normalised to sum to 1, and for 8-bit images they are rounded to 22-bit fixed point.
struct ResampleTaps {
    /// Fixed-point precision of 8-bit resampling (Pillow's `PRECISION_BITS = 32 − 8 − 2`).
    static let precisionBits = 22

    let kernelSize: Int
    /// First input index for each output.
    let start: [Int]
    /// Number of inputs for each output.
    let count: [Int]
    /// `kernelSize` weights per output.
    let weights: [Double]

    init(inSize: Int, outSize: Int, filter: ResampleFilter) {
        let scale = Double(Float(inSize)) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let size = Int(support.rounded(.up)) * 2 + 1
        var start = [Int](repeating: 0, count: outSize)
        var count = start
        var weights = [Double](repeating: 0, count: outSize * size)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let inverse = 1 / filterScale
            // Pillow truncates toward zero after adding 0.5 (C int conversion), then clamps.
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), inSize) - lo
            var total = 0.0
            for x in 0..<max(hi, 0) {
                let w = filter.weight((Double(x + lo) - center + 0.5) * inverse)
                weights[xx * size + x] = w
                total += w
            }
            if total != 0 { for x in 0..<max(hi, 0) { weights[xx * size + x] /= total } }
            start[xx] = lo
            count[xx] = max(hi, 0)
        }
        self.kernelSize = size
        self.start = start
        self.count = count
        self.weights = weights
    }

    /// The weights in Pillow's fixed point, rounded half away from zero.
    var fixedPoint: [Int32] {
        let one = Double(1 << Self.precisionBits)
        return weights.map { $0 < 0 ? Int32(-0.5 + $0 * one) : Int32(0.5 + $0 * one) }
    }
}

extension Image {
    /// The image resampled to `width × height` with a separable filter, as Pillow's `Image.resize` does: the
    /// kernel's support grows with the shrink factor (so shrinking antialiases), the horizontal pass runs first
    /// unless the width grows while the height shrinks (Pillow's order), 8-bit images use Pillow's fixed-point
    /// arithmetic and round between passes, and images with alpha are resampled premultiplied. 8-bit results match
    /// Pillow's exactly; float images are resampled in Double.
    public func resized(width newWidth: Int, height newHeight: Int, filter: ResampleFilter = .bicubic) throws -> Image {
        guard newWidth > 0, newHeight > 0 else {
            throw ImageError.invalidArgument(operation: "resize", detail: "output size \(newWidth)x\(newHeight)")
        }
        if newWidth == width && newHeight == height { return self }
        let c = channels.count
        let horizontal = newWidth != width ? ResampleTaps(inSize: width, outSize: newWidth, filter: filter) : nil
        let vertical = newHeight != height ? ResampleTaps(inSize: height, outSize: newHeight, filter: filter) : nil
        // Pillow runs the horizontal pass first, except when it would enlarge rows that the vertical pass then
        // shrinks: then the shrinking (vertical) pass goes first. (Measured against Pillow 13: with 8-bit rounding
        // between passes, the order decides the last bit.)
        let verticalFirst = newWidth > width && newHeight < height
        switch pixels {
        case .uint8(let values):
            var plane = channels.hasAlpha ? premultiplied(values, channels: c) : values
            if verticalFirst {
                if let vertical {
                    plane = resampleColumns(plane, width: width, height: height, channels: c, taps: vertical)
                }
                if let horizontal {
                    plane = resampleRows(plane, width: width, height: newHeight, channels: c, taps: horizontal)
                }
            } else {
                if let horizontal {
                    plane = resampleRows(plane, width: width, height: height, channels: c, taps: horizontal)
                }
                if let vertical {
                    plane = resampleColumns(plane, width: newWidth, height: height, channels: c, taps: vertical)
                }
            }
            if channels.hasAlpha { plane = unpremultiplied(plane, channels: c) }
            return Image(unchecked: newWidth, newHeight, channels, .uint8(plane))
        case .float(let values):
            var plane = values
            if channels.hasAlpha {
                for p in stride(from: 0, to: plane.count, by: c) {
                    for k in 0..<(c - 1) { plane[p + k] *= plane[p + c - 1] }
                }
            }
            if verticalFirst {
                if let vertical {
                    plane = resampleColumns(plane, width: width, height: height, channels: c, taps: vertical)
                }
                if let horizontal {
                    plane = resampleRows(plane, width: width, height: newHeight, channels: c, taps: horizontal)
                }
            } else {
                if let horizontal {
                    plane = resampleRows(plane, width: width, height: height, channels: c, taps: horizontal)
                }
                if let vertical {
                    plane = resampleColumns(plane, width: newWidth, height: height, channels: c, taps: vertical)
                }
            }
            if channels.hasAlpha {
                for p in stride(from: 0, to: plane.count, by: c) where plane[p + c - 1] > 0 {
                    for k in 0..<(c - 1) { plane[p + k] /= plane[p + c - 1] }
                }
            }
            return Image(unchecked: newWidth, newHeight, channels, .float(plane))
        }
    }

    /// Resizes so the shorter side becomes `size` (aspect ratio kept, rounded as torchvision's `Resize(int)`).
    public func resized(shorterSide size: Int, filter: ResampleFilter = .bicubic) throws -> Image {
        if width <= height {
            return try resized(
                width: size, height: max(1, Int(Double(size) * Double(height) / Double(width))), filter: filter)
        }
        return try resized(
            width: max(1, Int(Double(size) * Double(width) / Double(height))), height: size, filter: filter)
    }
}

/// Pillow's clip8: fixed-point sum to a byte.
@inline(__always) private func clip8(_ sum: Int32) -> UInt8 {
    let shifted = sum >> Int32(ResampleTaps.precisionBits)
    return shifted <= 0 ? 0 : (shifted >= 255 ? 255 : UInt8(shifted))
}

private func resampleRows(_ input: [UInt8], width: Int, height: Int, channels c: Int, taps: ResampleTaps) -> [UInt8] {
    let outWidth = taps.start.count
    let k = taps.fixedPoint
    let size = taps.kernelSize
    var out = [UInt8](repeating: 0, count: outWidth * height * c)
    let half = Int32(1) << Int32(ResampleTaps.precisionBits - 1)
    input.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for y in 0..<height {
                let row = y * width * c
                for xx in 0..<outWidth {
                    let lo = taps.start[xx]
                    let n = taps.count[xx]
                    for ch in 0..<c {
                        var sum = half
                        for x in 0..<n { sum &+= Int32(src[row + (x + lo) * c + ch]) &* k[xx * size + x] }
                        dst[(y * outWidth + xx) * c + ch] = clip8(sum)
                    }
                }
            }
        }
    }
    return out
}

private func resampleColumns(
    _ input: [UInt8], width: Int, height: Int, channels c: Int, taps: ResampleTaps
) -> [UInt8] {
    let outHeight = taps.start.count
    let k = taps.fixedPoint
    let size = taps.kernelSize
    let stride = width * c
    var out = [UInt8](repeating: 0, count: outHeight * stride)
    let half = Int32(1) << Int32(ResampleTaps.precisionBits - 1)
    input.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for yy in 0..<outHeight {
                let lo = taps.start[yy]
                let n = taps.count[yy]
                for i in 0..<stride {
                    var sum = half
                    for y in 0..<n { sum &+= Int32(src[(y + lo) * stride + i]) &* k[yy * size + y] }
                    dst[yy * stride + i] = clip8(sum)
                }
            }
        }
    }
    return out
}

private func resampleRows(_ input: [Float], width: Int, height: Int, channels c: Int, taps: ResampleTaps) -> [Float] {
    let outWidth = taps.start.count
    let size = taps.kernelSize
    var out = [Float](repeating: 0, count: outWidth * height * c)
    for y in 0..<height {
        for xx in 0..<outWidth {
            let lo = taps.start[xx]
            for ch in 0..<c {
                var sum = 0.0
                for x in 0..<taps.count[xx] {
                    sum += Double(input[(y * width + x + lo) * c + ch]) * taps.weights[xx * size + x]
                }
                out[(y * outWidth + xx) * c + ch] = Float(sum)
            }
        }
    }
    return out
}

private func resampleColumns(
    _ input: [Float], width: Int, height: Int, channels c: Int, taps: ResampleTaps
) -> [Float] {
    let outHeight = taps.start.count
    let size = taps.kernelSize
    let stride = width * c
    var out = [Float](repeating: 0, count: outHeight * stride)
    for yy in 0..<outHeight {
        let lo = taps.start[yy]
        for i in 0..<stride {
            var sum = 0.0
            for y in 0..<taps.count[yy] { sum += Double(input[(y + lo) * stride + i]) * taps.weights[yy * size + y] }
            out[yy * stride + i] = Float(sum)
        }
    }
    return out
}

/// Pillow's RGBA → RGBa (and LA → La): colour samples times alpha / 255, rounded as `MULDIV255`.
private func premultiplied(_ values: [UInt8], channels c: Int) -> [UInt8] {
    var out = values
    for p in stride(from: 0, to: values.count, by: c) {
        let a = UInt32(values[p + c - 1])
        for k in 0..<(c - 1) {
            let t = UInt32(values[p + k]) * a + 128
            out[p + k] = UInt8(((t >> 8) + t) >> 8)
        }
    }
    return out
}

/// Pillow's RGBa → RGBA: colour samples times 255 / alpha, truncated and clipped; alpha 0 and 255 unchanged.
private func unpremultiplied(_ values: [UInt8], channels c: Int) -> [UInt8] {
    var out = values
    for p in stride(from: 0, to: values.count, by: c) {
        let a = UInt32(values[p + c - 1])
        if a == 0 || a == 255 { continue }
        for k in 0..<(c - 1) { out[p + k] = UInt8(min(255, UInt32(values[p + k]) * 255 / a)) }
    }
    return out
}
