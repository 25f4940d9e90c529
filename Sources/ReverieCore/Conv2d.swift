import CBLAS

/// 2-D convolution (cross-correlation, as PyTorch's `F.conv2d`) with zero padding and groups = 1.
///
/// Each batch item is one GEMM: im2col unfolds the padded input into a `[Cin·kh·kw, Hout·Wout]` column matrix and the
/// weight, read as `[Cout, Cin·kh·kw]`, multiplies it. A 1×1, stride-1, unpadded convolution is already a GEMM over
/// the input read as `[Cin, H·W]` and skips the unfolding. Backward recomputes the column matrix instead of keeping
/// one per batch item alive between passes (a UNet's would cost hundreds of MB).

/// Convolves `x` with `weight` (PyTorch layout), adding `bias` per output channel.
///
/// x is `[B, Cin, H, W]`, weight is `[Cout, Cin, kh, kw]`, bias is `[Cout]`; the result is `[B, Cout, Hout, Wout]`
/// with `Hout = (H + 2·padding − kh) / stride + 1` (floor), likewise for W.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) throws -> Tensor {
    try conv2d(x, weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding))
}

/// Convolution with separate vertical and horizontal stride and padding, e.g. `stride: (2, 1)`.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: (h: Int, w: Int),
                   padding: (h: Int, w: Int)) throws -> Tensor {
    // x is [B, Cin, H, W], weight is [Cout, Cin, kh, kw], bias is [Cout]; out is [B, Cout, Hout, Wout]
    let geo = try Conv2dGeometry(input: x.shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                                 padding: padding)
    let out = Tensor(uninitialized: [geo.batch, geo.outChannels, geo.outH, geo.outW])
    Conv2dKernels.forward(geo, x: x.pointer, weight: weight.pointer, bias: bias?.pointer, out: out.pointer)
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return out.recorded("conv2d", inputs) { g in
        let dx = x.requiresGrad ? Tensor(uninitialized: x.shape) : nil
        let dw = weight.requiresGrad ? Tensor(zeros: weight.shape) : nil
        let db = bias?.requiresGrad == true ? Tensor(uninitialized: [geo.outChannels]) : nil
        Conv2dKernels.backward(geo, x: x.pointer, weight: weight.pointer, gradOut: g.pointer,
                               dx: dx?.pointer, dw: dw?.pointer, db: db?.pointer)
        return [dx, dw] + (bias == nil ? [] : [db])
    }
}

/// Sizes of one convolution, validated once and shared by the forward and backward kernels.
struct Conv2dGeometry {
    let batch, inChannels, height, width: Int
    let outChannels, kernelH, kernelW: Int
    let strideH, strideW, padH, padW: Int
    let outH, outW: Int

    init(input: [Int], weight: [Int], bias: [Int]?, stride: (h: Int, w: Int), padding: (h: Int, w: Int)) throws {
        let op = "conv2d"
        guard input.count == 4 else {
            throw TensorError.shapeMismatch(op: op, detail: "input \(shapeString(input)) must be [B, Cin, H, W]")
        }
        guard weight.count == 4, weight.allSatisfy({ $0 > 0 }) else {
            throw TensorError.shapeMismatch(
                op: op, detail: "weight \(shapeString(weight)) must be [Cout, Cin, kh, kw] with positive sizes")
        }
        guard input[1] == weight[1] else {
            throw TensorError.shapeMismatch(
                op: op, detail: "input \(shapeString(input)) has \(input[1]) channels but weight "
                    + "\(shapeString(weight)) expects \(weight[1])")
        }
        if let bias, bias != [weight[0]] {
            throw TensorError.shapeMismatch(
                op: op, detail: "bias \(shapeString(bias)) must be [\(weight[0])] for weight \(shapeString(weight))")
        }
        guard stride.h > 0, stride.w > 0, padding.h >= 0, padding.w >= 0 else {
            throw TensorError.invalidArgument(
                op: op, detail: "stride (\(stride.h), \(stride.w)) must be positive and padding "
                    + "(\(padding.h), \(padding.w)) non-negative")
        }
        (batch, inChannels, height, width) = (input[0], input[1], input[2], input[3])
        (outChannels, kernelH, kernelW) = (weight[0], weight[2], weight[3])
        (strideH, strideW, padH, padW) = (stride.h, stride.w, padding.h, padding.w)
        // Floor division of a possibly negative numerator: a kernel larger than the padded input gives size ≤ 0.
        let spanH = height + 2 * padH - kernelH, spanW = width + 2 * padW - kernelW
        outH = spanH < 0 ? 0 : spanH / strideH + 1
        outW = spanW < 0 ? 0 : spanW / strideW + 1
        guard outH > 0, outW > 0 else {
            throw TensorError.shapeMismatch(
                op: op, detail: "output size \(outH)×\(outW) ≤ 0 for input \(shapeString(input)), weight "
                    + "\(shapeString(weight)), stride (\(strideH), \(strideW)), padding (\(padH), \(padW))")
        }
    }

    /// Rows of the column matrix: one per (input channel, kernel row, kernel column).
    var patchSize: Int { inChannels * kernelH * kernelW }
    /// Columns of the column matrix: one per output pixel.
    var outPlane: Int { outH * outW }
    var inPlane: Int { height * width }
    /// A 1×1, stride-1, unpadded convolution reads the input directly as its column matrix.
    var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0
    }

    /// Batch items run concurrently (one BLAS call each) when one item's GEMM is too small to split into panels;
    /// otherwise items run in order, each GEMM split into concurrent panels (`PanelGEMM`). Chosen by size alone.
    var parallelOverBatch: Bool { batch > 1 && outChannels * patchSize * outPlane < 2 * PanelGEMM.panelWork }

    /// Output positions `o` whose input index `o·stride − pad + k` lies in `0..<size`.
    static func validRange(offset k: Int, size: Int, stride: Int, pad: Int, outSize: Int) -> Range<Int> {
        let lo = pad > k ? (pad - k + stride - 1) / stride : 0
        let top = size + pad - k  // need o·stride < top
        let hi = top > 0 ? Swift.min(outSize, (top + stride - 1) / stride) : 0
        return Swift.min(lo, hi)..<hi
    }
}

/// Raw-pointer kernels behind `conv2d`. No shape checks: `Conv2dGeometry` has validated.
enum Conv2dKernels {
    /// Fills `col` (`[Cin·kh·kw, Hout·Wout]`) from one item's input `src` (`[Cin, H, W]`), zeros where padded.
    static func im2col(_ g: Conv2dGeometry, _ src: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>,
                       parallel: Bool) {
        let rows = g.patchSize, n = g.outPlane
        let body = { (range: Range<Int>) in
            for r in range {
                let c = r / (g.kernelH * g.kernelW), ki = (r / g.kernelW) % g.kernelH, kj = r % g.kernelW
                let plane = src + c * g.inPlane, dst = col + r * n
                let hs = Conv2dGeometry.validRange(offset: ki, size: g.height, stride: g.strideH, pad: g.padH,
                                                   outSize: g.outH)
                let ws = Conv2dGeometry.validRange(offset: kj, size: g.width, stride: g.strideW, pad: g.padW,
                                                   outSize: g.outW)
                if hs.isEmpty || ws.isEmpty {
                    dst.update(repeating: 0, count: n)
                    continue
                }
                dst.update(repeating: 0, count: hs.lowerBound * g.outW)
                for oh in hs {
                    let d = dst + oh * g.outW
                    // Input row of this output row, indexed so that column ow reads s[ow · strideW].
                    let rowStart = (oh * g.strideH - g.padH + ki) * g.width - g.padW + kj
                    d.update(repeating: 0, count: ws.lowerBound)
                    if g.strideW == 1 {
                        (d + ws.lowerBound).update(from: plane + rowStart + ws.lowerBound, count: ws.count)
                    } else {
                        for ow in ws { d[ow] = plane[rowStart + ow * g.strideW] }
                    }
                    (d + ws.upperBound).update(repeating: 0, count: g.outW - ws.upperBound)
                }
                (dst + hs.upperBound * g.outW).update(repeating: 0, count: (g.outH - hs.upperBound) * g.outW)
            }
        }
        if parallel {
            ThreadPolicy.parallelFor(rows, grain: Swift.max(1, Map.grain / n), body)
        } else {
            body(0..<rows)
        }
    }

    /// Overwrites `dst` (`[Cin, H, W]`) with the fold of `col` (`[Cin·kh·kw, Hout·Wout]`): every column entry is
    /// added to the input pixel it was copied from. Parallel over channels, each summed in a fixed order.
    static func col2im(_ g: Conv2dGeometry, _ col: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                       parallel: Bool) {
        let n = g.outPlane
        let body = { (range: Range<Int>) in
            for c in range {
                let plane = dst + c * g.inPlane
                plane.update(repeating: 0, count: g.inPlane)
                for ki in 0..<g.kernelH {
                    let hs = Conv2dGeometry.validRange(offset: ki, size: g.height, stride: g.strideH, pad: g.padH,
                                                       outSize: g.outH)
                    for kj in 0..<g.kernelW {
                        let ws = Conv2dGeometry.validRange(offset: kj, size: g.width, stride: g.strideW, pad: g.padW,
                                                           outSize: g.outW)
                        if ws.isEmpty { continue }
                        let src = col + ((c * g.kernelH + ki) * g.kernelW + kj) * n
                        for oh in hs {
                            let s = src + oh * g.outW
                            let rowStart = (oh * g.strideH - g.padH + ki) * g.width - g.padW + kj
                            if g.strideW == 1 {
                                let d = plane + rowStart
                                for ow in ws { d[ow] += s[ow] }
                            } else {
                                for ow in ws { plane[rowStart + ow * g.strideW] += s[ow] }
                            }
                        }
                    }
                }
            }
        }
        if parallel {
            ThreadPolicy.parallelFor(g.inChannels, grain: Swift.max(1, Map.grain / (g.kernelH * g.kernelW * n)), body)
        } else {
            body(0..<g.inChannels)
        }
    }

    /// out[b] = weight · col(x[b]) + bias, for every batch item.
    static func forward(_ g: Conv2dGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>) {
        let k = g.patchSize, n = g.outPlane
        func item(_ b: Int, _ scratch: UnsafeMutablePointer<Float>?, parallel: Bool) {
            let xb = x + b * g.inChannels * g.inPlane, ob = out + b * g.outChannels * n
            var col = xb
            if let scratch {
                im2col(g, xb, scratch, parallel: parallel)
                col = UnsafePointer(scratch)
            }
            if let bias {
                for co in 0..<g.outChannels { (ob + co * n).update(repeating: bias[co], count: n) }
            }
            // out[b] is [Cout, N] = weight [Cout, K] · col [K, N] (+ bias already in place)
            PanelGEMM.run(transA: false, transB: false, m: g.outChannels, n: n, k: k, a: weight, b: col,
                          beta: bias == nil ? 0 : 1, c: ob, concurrent: parallel)
        }
        if g.parallelOverBatch {
            ThreadPolicy.parallelItems(g.batch) { b in
                let scratch = g.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: k * n)
                defer { scratch?.deallocate() }
                item(b, scratch, parallel: false)
            }
        } else {
            let scratch = g.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: k * n)
            defer { scratch?.deallocate() }
            for b in 0..<g.batch { item(b, scratch, parallel: true) }
        }
    }

    /// Gradients for whichever of `dx` (`[B, Cin, H, W]`), `dw` (`[Cout, Cin, kh, kw]`, zero-filled on entry) and
    /// `db` (`[Cout]`) are non-nil, from `gradOut` (`[B, Cout, Hout, Wout]`).
    ///
    /// dW sums over the batch in a fixed order: with concurrent items each writes its own partial and the partials
    /// are added in batch order; otherwise items accumulate into dW in order (GEMM beta = 1).
    static func backward(_ g: Conv2dGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         gradOut: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                         dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?) {
        let k = g.patchSize, n = g.outPlane, cout = g.outChannels
        if let db {
            // db[co] = Σ_b Σ_pixels gradOut[b, co]
            ThreadPolicy.parallelFor(cout, grain: Swift.max(1, Map.grain / Swift.max(g.batch * n, 1))) { r in
                for co in r {
                    var s: Float = 0
                    for b in 0..<g.batch { s += Kernels.sum(gradOut + (b * cout + co) * n, count: n) }
                    db[co] = s
                }
            }
        }
        guard dx != nil || dw != nil else { return }
        func item(_ b: Int, _ scratch: UnsafeMutablePointer<Float>?, dwTarget: UnsafeMutablePointer<Float>?,
                  parallel: Bool) {
            let xb = x + b * g.inChannels * g.inPlane, gb = gradOut + b * cout * n
            if let dwTarget {
                var col = xb
                if let scratch {
                    im2col(g, xb, scratch, parallel: parallel)
                    col = UnsafePointer(scratch)
                }
                // dW [Cout, K] += gradOut[b] [Cout, N] · col [K, N]ᵀ
                PanelGEMM.run(transA: false, transB: true, m: cout, n: k, k: n, a: gb, b: col, beta: 1, c: dwTarget,
                              concurrent: parallel)
            }
            if let dx {
                let dxb = dx + b * g.inChannels * g.inPlane
                // dcol [K, N] = weight [Cout, K]ᵀ · gradOut[b] [Cout, N], folded back onto dx[b]
                if let scratch {
                    PanelGEMM.run(transA: true, transB: false, m: k, n: n, k: cout, a: weight, b: gb, c: scratch,
                                  concurrent: parallel)
                    col2im(g, scratch, dxb, parallel: parallel)
                } else {
                    PanelGEMM.run(transA: true, transB: false, m: k, n: n, k: cout, a: weight, b: gb, c: dxb,
                                  concurrent: parallel)
                }
            }
        }
        if g.parallelOverBatch {
            let total = cout * k
            let partials = dw == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: g.batch * total)
            defer { partials?.deallocate() }
            partials?.initialize(repeating: 0, count: g.batch * total)
            ThreadPolicy.parallelItems(g.batch) { b in
                let scratch = g.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: k * n)
                defer { scratch?.deallocate() }
                item(b, scratch, dwTarget: partials.map { $0 + b * total }, parallel: false)
            }
            if let dw, let partials {
                ThreadPolicy.parallelFor(total, grain: Swift.max(1, Map.grain / g.batch)) { r in
                    for i in r {
                        var s: Float = 0
                        for b in 0..<g.batch { s += partials[b * total + i] }
                        dw[i] = s
                    }
                }
            }
        } else {
            let scratch = g.isPointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: k * n)
            defer { scratch?.deallocate() }
            for b in 0..<g.batch { item(b, scratch, dwTarget: dw, parallel: true) }
        }
    }
}

/// Row-major products for the convolution kernels, with C split into fixed panels that run concurrently, each one
/// single-threaded BLAS call.
///
/// Threaded OpenBLAS sgemm is not bit-identical to single-threaded sgemm (measured with OpenBLAS 0.3.21: last-bit
/// differences between one and two threads), so handing large products to BLAS threads would make results depend
/// on the thread count. The panels here depend only on (m, n, k).
enum PanelGEMM {
    /// Multiply-adds per panel: about a millisecond of one core, enough to amortise re-packing the shared operand.
    static let panelWork = 1 << 25
    static let maxPanels = 16
    /// Narrower panels would re-pack the shared operand too often for the work they do.
    static let minColumns = 256, minRows = 64

    /// C[m×n] = op(A)·op(B) + beta·C. `concurrent` splits C into panels run in parallel; without it, one BLAS call
    /// (for callers already running in parallel with single-threaded BLAS).
    static func run(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>,
                    b: UnsafePointer<Float>, beta: Float = 0, c: UnsafeMutablePointer<Float>, concurrent: Bool) {
        guard m > 0, n > 0 else { return }
        let lda = transA ? m : k, ldb = transB ? k : n
        func panel(_ rows: Range<Int>, _ cols: Range<Int>) {
            // Row i of op(A) starts at a + i·lda (or column i of A when transposed); column j of op(B) likewise.
            let ap = transA ? a + rows.lowerBound : a + rows.lowerBound * lda
            let bp = transB ? b + cols.lowerBound * ldb : b + cols.lowerBound
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(rows.count), Int32(cols.count), Int32(k), 1, ap, Int32(lda), bp, Int32(ldb), beta,
                        c + rows.lowerBound * n + cols.lowerBound, Int32(n))
        }
        guard concurrent else { return panel(0..<m, 0..<n) }
        let wanted = Swift.min(maxPanels, Swift.max(1, m * n * k / panelWork))
        let colPanels = Swift.max(1, Swift.min(wanted, n / minColumns))
        let rowPanels = Swift.max(1, Swift.min(wanted / colPanels, m / minRows))
        let cols = roundUp((n + colPanels - 1) / colPanels, 16), rows = roundUp((m + rowPanels - 1) / rowPanels, 16)
        let (pr, pc) = ((m + rows - 1) / rows, (n + cols - 1) / cols)
        if pr * pc == 1 {
            ThreadPolicy.withSerialBLAS { panel(0..<m, 0..<n) }
            return
        }
        ThreadPolicy.parallelItems(pr * pc) { p in
            let (i, j) = (p / pc, p % pc)
            panel(i * rows ..< Swift.min(m, (i + 1) * rows), j * cols ..< Swift.min(n, (j + 1) * cols))
        }
    }

    private static func roundUp(_ x: Int, _ multiple: Int) -> Int { (x + multiple - 1) / multiple * multiple }
}
