import ReverieCore

extension Image {
    /// The image as a `[C, H, W]` Float tensor with values in [0, 1] (bytes divided by 255), channels as stored.
    public func tensor() -> Tensor {
        let c = channels.count
        let n = width * height
        let out = Tensor(uninitialized: [c, height, width])  // [C, H, W]
        let o = out.mutableBuffer
        switch pixels {
        case .uint8(let values):
            values.withUnsafeBufferPointer { v in
                for p in 0..<n { for ch in 0..<c { o[ch * n + p] = Float(v[p * c + ch]) / 255 } }
            }
        case .float(let values):
            values.withUnsafeBufferPointer { v in
                for p in 0..<n { for ch in 0..<c { o[ch * n + p] = v[p * c + ch] } }
            }
        }
        return out
    }

    /// The image as a `[C, H, W]` tensor normalised per channel: `(x − mean[c]) / std[c]` with `x` in [0, 1]
    /// (CLIP uses mean (0.4815, 0.4578, 0.4082), std (0.2686, 0.2613, 0.2758); SigLIP uses 0.5 and 0.5).
    public func tensor(mean: [Float], std: [Float]) throws -> Tensor {
        let t = tensor()
        try normalize(t, mean: mean, std: std)
        return t
    }

    /// An image from a `[C, H, W]` tensor (C in 1...4) of values in [0, 1]. With `asUInt8` the values are clamped
    /// and rounded to bytes (what a PNG holds); otherwise they are kept as floats.
    public init(tensor: Tensor, asUInt8: Bool = true) throws {
        guard tensor.rank == 3, let layout = ImageChannels(count: tensor.shape[0]), tensor.shape[1] > 0,
            tensor.shape[2] > 0
        else {
            throw ImageError.invalidArgument(
                operation: "Image(tensor:)", detail: "expected [C, H, W] with C in 1...4, got \(tensor.shape)")
        }
        let c = layout.count
        let h = tensor.shape[1]
        let w = tensor.shape[2]
        let n = h * w
        let t = tensor.buffer
        var values = [Float](repeating: 0, count: n * c)
        for ch in 0..<c { for p in 0..<n { values[p * c + ch] = t[ch * n + p] } }
        self.init(unchecked: w, h, layout, asUInt8 ? .uint8(values.map { quantize($0) }) : .float(values))
    }
}

/// Normalises a `[C, H, W]` (or `[B, C, H, W]`) tensor in place per channel: `(x − mean[c]) / std[c]`.
public func normalize(_ tensor: Tensor, mean: [Float], std: [Float]) throws {
    guard tensor.rank == 3 || tensor.rank == 4 else {
        throw ImageError.invalidArgument(
            operation: "normalize", detail: "expected [C, H, W] or [B, C, H, W], got \(tensor.shape)")
    }
    let c = tensor.shape[tensor.rank - 3]
    guard mean.count == c, std.count == c, std.allSatisfy({ $0 != 0 && $0.isFinite }) else {
        throw ImageError.invalidArgument(
            operation: "normalize", detail: "\(c) channels but mean \(mean) and std \(std) (non-zero)")
    }
    let plane = tensor.shape[tensor.rank - 2] * tensor.shape[tensor.rank - 1]
    let o = tensor.mutableBuffer
    for block in 0..<(tensor.count / plane) {
        let ch = block % c
        let m = mean[ch]
        let s = 1 / std[ch]
        for i in (block * plane)..<((block + 1) * plane) { o[i] = (o[i] - m) * s }
    }
}

extension Image {
    /// Images of one size and layout stacked into a `[B, C, H, W]` tensor in [0, 1]. Throws naming the first image
    /// whose size or channels differ (resize or convert first).
    public static func batchTensor(_ images: [Image]) throws -> Tensor {
        guard let first = images.first else {
            throw ImageError.invalidArgument(operation: "Image.batchTensor", detail: "no images")
        }
        let c = first.channels.count
        let h = first.height
        let w = first.width
        let plane = c * h * w
        let out = Tensor(uninitialized: [images.count, c, h, w])  // [B, C, H, W]
        for (b, image) in images.enumerated() {
            guard image.width == w, image.height == h, image.channels == first.channels else {
                throw ImageError.invalidArgument(
                    operation: "Image.batchTensor",
                    detail: "image \(b) is \(image.width)x\(image.height)x\(image.channels.count), "
                        + "image 0 is \(w)x\(h)x\(c)")
            }
            let one = image.tensor()
            (out.pointer + b * plane).update(from: one.pointer, count: plane)
        }
        return out
    }
}
