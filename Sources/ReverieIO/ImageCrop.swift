extension Image {
    /// The `width × height` region whose top-left corner is at column `x`, row `y`. Throws if it leaves the image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) throws -> Image {
        guard w > 0, h > 0, x >= 0, y >= 0, x + w <= width, y + h <= height else {
            throw ImageError.invalidArgument(
                operation: "crop", detail: "region \(w)x\(h) at (\(x), \(y)) does not fit in \(width)x\(height)")
        }
        let c = channels.count
        func cut<T>(_ values: [T]) -> [T] {
            var out = [T]()
            out.reserveCapacity(w * h * c)
            for row in y..<(y + h) {
                let start = (row * width + x) * c
                out.append(contentsOf: values[start..<(start + w * c)])
            }
            return out
        }
        switch pixels {
        case .uint8(let values): return Image(unchecked: w, h, channels, .uint8(cut(values)))
        case .float(let values): return Image(unchecked: w, h, channels, .float(cut(values)))
        }
    }

    /// The central `width × height` region, placed as torchvision's `CenterCrop` places it:
    /// top = round((H − h) / 2), left = round((W − w) / 2).
    public func centerCropped(width w: Int, height h: Int) throws -> Image {
        // Python rounds halves to even, so torchvision does too.
        let left = Int((Double(width - w) / 2).rounded(.toNearestOrEven))
        let top = Int((Double(height - h) / 2).rounded(.toNearestOrEven))
        return try cropped(x: left, y: top, width: w, height: h)
    }

    /// The largest central square.
    public func centerSquare() -> Image {
        let side = min(width, height)
        // The square always fits, so the crop cannot fail.
        return (try? centerCropped(width: side, height: side)) ?? self
    }
}
