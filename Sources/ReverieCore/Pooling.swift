/// Nearest-neighbour upsampling and average pooling over the two spatial dimensions of `[B, C, H, W]`.
///
/// Every kernel runs in parallel over (batch item, channel) planes; within a plane the summation order is fixed, so
/// results do not depend on the thread count.

/// Repeats each pixel `scale × scale` times, like `F.interpolate(x, scale_factor=scale, mode="nearest")`.
///
/// x is `[B, C, H, W]`; the result is `[B, C, H·scale, W·scale]` with `out[.., i, j] = x[.., i / scale, j / scale]`.
public func upsampleNearest(_ x: Tensor, scale: Int) throws -> Tensor {
    // x is [B, C, H, W]; out is [B, C, H·scale, W·scale]
    let op = "upsampleNearest"
    try checkPlanes(x, op: op)
    guard scale >= 1 else {
        throw TensorError.invalidArgument(
            op: op, detail: "scale \(scale) must be ≥ 1 for input \(shapeString(x.shape))")
    }
    let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(uninitialized: [b, c, h * scale, w * scale])
    let rows = b * c * h, outW = w * scale
    let xp = x.pointer, yp = out.pointer
    // Input row `row` (over all planes) becomes output rows row·scale ..< row·scale + scale.
    ThreadPolicy.parallelFor(rows, grain: Swift.max(1, Map.grain / Swift.max(outW * scale, 1))) { r in
        for row in r {
            let src = xp + row * w, dst = yp + row * scale * outW
            for iw in 0..<w {
                let v = src[iw]
                for k in 0..<scale { dst[iw * scale + k] = v }
            }
            for k in 1..<scale { (dst + k * outW).update(from: dst, count: outW) }
        }
    }
    return out.recorded(op, [x]) { g in
        let dx = Tensor(uninitialized: x.shape)
        let gp = g.pointer, dp = dx.pointer
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, Map.grain / Swift.max(outW * scale, 1))) { r in
            for row in r {
                let src = gp + row * scale * outW, dst = dp + row * w
                for iw in 0..<w {
                    var s: Float = 0
                    for k in 0..<scale {
                        for j in 0..<scale { s += src[k * outW + iw * scale + j] }
                    }
                    dst[iw] = s
                }
            }
        }
        return [dx]
    }
}

/// Mean over `kernel × kernel` windows every `stride` pixels (default: `kernel`), without padding and rounding the
/// output size down, like `F.avg_pool2d(x, kernel, stride)`.
///
/// x is `[B, C, H, W]`; the result is `[B, C, (H − kernel) / stride + 1, (W − kernel) / stride + 1]`.
public func avgPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil) throws -> Tensor {
    // x is [B, C, H, W]; out is [B, C, Hout, Wout]
    let op = "avgPool2d"
    try checkPlanes(x, op: op)
    let s = stride ?? kernel
    guard kernel >= 1, s >= 1 else {
        throw TensorError.invalidArgument(op: op, detail: "kernel \(kernel) and stride \(s) must be ≥ 1")
    }
    let (h, w) = (x.shape[2], x.shape[3])
    guard h >= kernel, w >= kernel else {
        throw TensorError.shapeMismatch(
            op: op, detail: "output size ≤ 0: kernel \(kernel) is larger than input \(shapeString(x.shape))")
    }
    let rows = (0..<((h - kernel) / s + 1)).map { $0 * s..<$0 * s + kernel }
    let cols = (0..<((w - kernel) / s + 1)).map { $0 * s..<$0 * s + kernel }
    return PoolingKernels.average(x, rows: rows, cols: cols, op: op)
}

/// Mean over the bins PyTorch's `F.adaptive_avg_pool2d(x, outputSize)` uses: output row i covers input rows
/// `floor(i·H / out) ..< ceil((i + 1)·H / out)`, likewise for columns. Bins may overlap and may differ in size.
///
/// x is `[B, C, H, W]`; the result is `[B, C, outputSize, outputSize]`.
public func adaptiveAvgPool2d(_ x: Tensor, outputSize: Int) throws -> Tensor {
    try adaptiveAvgPool2d(x, outputSize: (outputSize, outputSize))
}

/// Adaptive average pooling to `outputSize.h × outputSize.w`.
public func adaptiveAvgPool2d(_ x: Tensor, outputSize: (h: Int, w: Int)) throws -> Tensor {
    // x is [B, C, H, W]; out is [B, C, outH, outW]
    let op = "adaptiveAvgPool2d"
    try checkPlanes(x, op: op)
    let (h, w) = (x.shape[2], x.shape[3])
    guard outputSize.h >= 1, outputSize.w >= 1, h >= 1, w >= 1 else {
        throw TensorError.invalidArgument(
            op: op,
            detail: "output size \(outputSize.h)×\(outputSize.w) for input \(shapeString(x.shape)): "
                + "both need positive spatial sizes")
    }
    func bins(_ n: Int, _ out: Int) -> [Range<Int>] {
        (0..<out).map { i in (i * n) / out..<((i + 1) * n + out - 1) / out }
    }
    return PoolingKernels.average(x, rows: bins(h, outputSize.h), cols: bins(w, outputSize.w), op: op)
}

/// Throws unless `x` is `[B, C, H, W]`.
private func checkPlanes(_ x: Tensor, op: String) throws {
    guard x.rank == 4 else {
        throw TensorError.shapeMismatch(op: op, detail: "input \(shapeString(x.shape)) must be [B, C, H, W]")
    }
}

/// Window averaging shared by `avgPool2d` and `adaptiveAvgPool2d`: output (i, j) is the mean of input rows
/// `rows[i]` × columns `cols[j]`.
enum PoolingKernels {
    static func average(_ x: Tensor, rows: [Range<Int>], cols: [Range<Int>], op: String) -> Tensor {
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (rows.count, cols.count)
        let out = Tensor(uninitialized: [x.shape[0], x.shape[1], oh, ow])
        let grain = Swift.max(1, Map.grain / Swift.max(h * w, 1))
        let xp = x.pointer, yp = out.pointer
        ThreadPolicy.parallelFor(planes, grain: grain) { r in
            // Column sums of the current row window, then sums across each column window.
            let rowSum = UnsafeMutablePointer<Float>.allocate(capacity: w)
            defer { rowSum.deallocate() }
            for p in r {
                let src = xp + p * h * w, dst = yp + p * oh * ow
                for (i, rw) in rows.enumerated() {
                    rowSum.update(repeating: 0, count: w)
                    for ih in rw {
                        let line = src + ih * w
                        Kernels.accumulate(rowSum, line, count: w)
                    }
                    for (j, cw) in cols.enumerated() {
                        var s: Float = 0
                        for iw in cw { s += rowSum[iw] }
                        dst[i * ow + j] = s / Float(rw.count * cw.count)
                    }
                }
            }
        }
        return out.recorded(op, [x]) { g in
            let dx = Tensor(zeros: x.shape)
            let gp = g.pointer, dp = dx.pointer
            ThreadPolicy.parallelFor(planes, grain: grain) { r in
                // Each output row's gradient spread over the columns it covered, then added to the rows it covered.
                let rowGrad = UnsafeMutablePointer<Float>.allocate(capacity: w)
                defer { rowGrad.deallocate() }
                for p in r {
                    let src = gp + p * oh * ow, dst = dp + p * h * w
                    for (i, rw) in rows.enumerated() {
                        rowGrad.update(repeating: 0, count: w)
                        for (j, cw) in cols.enumerated() {
                            let v = src[i * ow + j] / Float(rw.count * cw.count)
                            for iw in cw { rowGrad[iw] += v }
                        }
                        for ih in rw {
                            let line = dst + ih * w
                            for j in 0..<w { line[j] += rowGrad[j] }
                        }
                    }
                }
            }
            return [dx]
        }
    }
}
