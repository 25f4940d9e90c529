extension Image {
    /// The image with another channel layout, converted the way Pillow's `Image.convert` does: gray is replicated
    /// into RGB, alpha is dropped or set opaque, and RGB becomes gray by ITU-R 601-2 luma
    /// (`L = R·299/1000 + G·587/1000 + B·114/1000`, in Pillow's 16-bit fixed point for 8-bit images).
    public func converted(to target: ImageChannels) -> Image {
        if target == channels { return self }
        let n = width * height
        let src = channels.count
        let dst = target.count
        switch pixels {
        case .uint8(let values):
            var out = [UInt8](repeating: 0, count: n * dst)
            values.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBufferPointer { o in
                    for p in 0..<n {
                        let (r, g, b, a) = rgbaBytes(v, p * src, channels)
                        write(o, p * dst, target, r, g, b, a, luma: { luma8(r, g, b) })
                    }
                }
            }
            return Image(unchecked: width, height, target, .uint8(out))
        case .float(let values):
            var out = [Float](repeating: 0, count: n * dst)
            values.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBufferPointer { o in
                    for p in 0..<n {
                        let (r, g, b, a) = rgbaFloats(v, p * src, channels)
                        write(o, p * dst, target, r, g, b, a, luma: { lumaFloat(r, g, b) })
                    }
                }
            }
            return Image(unchecked: width, height, target, .float(out))
        }
    }

    /// The image as RGB (gray replicated, alpha dropped): what vision encoders take.
    public func rgb() -> Image { converted(to: .rgb) }
}

/// Pillow's 8-bit luma: `(R·19595 + G·38470 + B·7471 + 0x8000) >> 16`.
private func luma8(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
    let red: UInt32 = UInt32(r) * 19595
    let green: UInt32 = UInt32(g) * 38470
    let blue: UInt32 = UInt32(b) * 7471
    return UInt8((red + green + blue + 0x8000) >> 16)
}

private func rgbaBytes(
    _ v: UnsafeBufferPointer<UInt8>, _ i: Int, _ layout: ImageChannels
) -> (UInt8, UInt8, UInt8, UInt8) {
    switch layout {
    case .gray: return (v[i], v[i], v[i], 255)
    case .grayAlpha: return (v[i], v[i], v[i], v[i + 1])
    case .rgb: return (v[i], v[i + 1], v[i + 2], 255)
    case .rgba: return (v[i], v[i + 1], v[i + 2], v[i + 3])
    }
}

private func rgbaFloats(
    _ v: UnsafeBufferPointer<Float>, _ i: Int, _ layout: ImageChannels
) -> (Float, Float, Float, Float) {
    switch layout {
    case .gray: return (v[i], v[i], v[i], 1)
    case .grayAlpha: return (v[i], v[i], v[i], v[i + 1])
    case .rgb: return (v[i], v[i + 1], v[i + 2], 1)
    case .rgba: return (v[i], v[i + 1], v[i + 2], v[i + 3])
    }
}

private func write<T>(
    _ o: UnsafeMutableBufferPointer<T>, _ i: Int, _ layout: ImageChannels,
    _ r: T, _ g: T, _ b: T, _ a: T, luma: () -> T
) {
    switch layout {
    case .gray:
        o[i] = luma()
    case .grayAlpha:
        o[i] = luma()
        o[i + 1] = a
    case .rgb:
        o[i] = r
        o[i + 1] = g
        o[i + 2] = b
    case .rgba:
        o[i] = r
        o[i + 1] = g
        o[i + 2] = b
        o[i + 3] = a
    }
}

private func lumaFloat(_ r: Float, _ g: Float, _ b: Float) -> Float {
    let red: Float = 0.299 * r
    let green: Float = 0.587 * g
    return red + green + 0.114 * b
}
