import CBLAS

/// 2-D convolution (cross-correlation, as PyTorch's `F.conv2d`) with zero padding and groups = 1.
///
/// Each batch item is a GEMM: im2col unfolds the padded input into a `[Cin·kh·kw, Hout·Wout]` column matrix and the
/// weight, read as `[Cout, Cin·kh·kw]`, multiplies it. The column matrix is built for a panel of output rows at a
/// time so that it stays within 16 MB (a VAE decoder layer at 512×512 would need over a gigabyte whole). A 1×1,
/// stride-1, unpadded convolution is already a GEMM over the input read as `[Cin, H·W]` and skips the unfolding.
/// Backward rebuilds the column matrix rather than keeping one per item alive between the passes.
///
/// A stride-1 convolution with an output of 16×16 or more whose padded item fits the scratch limit skips the column
/// matrix altogether: one GEMM per kernel offset over the padded input, shifted (`ShiftedConvGeometry`; `bench core`
/// 3×3 64 → 32 at 32×32, forward + backward: 0.45 → 0.65–0.69 of the sgemm ceiling).
///
/// Small items run concurrently, one single-threaded GEMM each; large ones run in order, each GEMM split into fixed
/// blocks that run concurrently (`PanelGEMM`). BLAS never runs threaded here: threaded OpenBLAS changes the last
/// bits of a product with its thread count. Every split depends on the sizes alone, so results are bit-identical
/// for any `REVERIE_THREADS`.

/// Convolves `x` with `weight` (PyTorch layout), adding `bias` per output channel.
///
/// x is `[B, Cin, H, W]`, weight is `[Cout, Cin, kh, kw]`, bias is `[Cout]`; the result is `[B, Cout, Hout, Wout]`
/// with `Hout = (H + 2·padding − kh) / stride + 1` (floor), likewise for W.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) throws -> Tensor {
    try conv2d(x, weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding))
}

/// Convolution with separate vertical and horizontal stride and padding, e.g. `stride: (2, 1)`.
public func conv2d(
    _ x: Tensor, weight: Tensor, bias: Tensor?, stride: (h: Int, w: Int),
    padding: (h: Int, w: Int)
) throws -> Tensor {
    // x is [B, Cin, H, W], weight is [Cout, Cin, kh, kw], bias is [Cout]; out is [B, Cout, Hout, Wout]
    let geo = try Conv2dGeometry(
        input: x.shape, weight: weight.shape, bias: bias?.shape, stride: stride,
        padding: padding)
    let out = Tensor(uninitialized: [geo.batch, geo.outChannels, geo.outH, geo.outW])
    Conv2dKernels.forward(geo, x: x.pointer, weight: weight.pointer, bias: bias?.pointer, out: out.pointer)
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return out.recorded("conv2d", inputs) { g in
        let dx = x.requiresGrad ? Tensor(uninitialized: x.shape) : nil
        let dw = weight.requiresGrad ? Tensor(uninitialized: weight.shape) : nil
        let db = bias?.requiresGrad == true ? Tensor(uninitialized: [geo.outChannels]) : nil
        Conv2dKernels.backward(
            geo, x: x.pointer, weight: weight.pointer, gradOut: g.pointer,
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
                op: op,
                detail: "input \(shapeString(input)) has \(input[1]) channels but weight "
                    + "\(shapeString(weight)) expects \(weight[1])")
        }
        if let bias, bias != [weight[0]] {
            throw TensorError.shapeMismatch(
                op: op, detail: "bias \(shapeString(bias)) must be [\(weight[0])] for weight \(shapeString(weight))")
        }
        guard stride.h > 0, stride.w > 0, padding.h >= 0, padding.w >= 0 else {
            throw TensorError.invalidArgument(
                op: op,
                detail: "stride (\(stride.h), \(stride.w)) must be positive and padding "
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
                op: op,
                detail: "output size \(outH)×\(outW) ≤ 0 for input \(shapeString(input)), weight "
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

    /// Multiply-adds of one batch item's GEMM.
    var workPerItem: Int { outChannels * patchSize * outPlane }

    /// Output rows per panel, so that a panel's column matrix (`patchSize × rows·outW` floats) stays within
    /// `Conv2dKernels.scratchLimit`: a VAE decoder's full column matrix at 512×512 would take over a gigabyte.
    var panelRows: Int {
        isPointwise ? outH : Swift.max(1, Swift.min(outH, Conv2dKernels.scratchLimit / (patchSize * outW)))
    }

    /// The output row ranges processed one after another for each batch item.
    var panels: [Range<Int>] {
        stride(from: 0, to: outH, by: panelRows).map { $0..<Swift.min(outH, $0 + panelRows) }
    }

    /// Batch items run concurrently (one single-threaded BLAS call each) when one item's GEMM is too small to split
    /// and its column matrix fits one panel; otherwise items run in order, each panel's GEMM split into concurrent
    /// blocks (`PanelGEMM`). Chosen by size alone, never by thread count.
    var parallelOverBatch: Bool { batch > 1 && workPerItem < 2 * PanelGEMM.blockWork && panelRows == outH }

    /// Output positions `o` whose input index `o·stride − pad + k` lies in `0..<size`.
    static func validRange(offset k: Int, size: Int, stride: Int, pad: Int, outSize: Int) -> Range<Int> {
        let lo = pad > k ? (pad - k + stride - 1) / stride : 0
        let top = size + pad - k  // need o·stride < top
        let hi = top > 0 ? Swift.min(outSize, (top + stride - 1) / stride) : 0
        return Swift.min(lo, hi)..<hi
    }
}

/// Raw-pointer kernels behind `conv2d`. No shape checks: `Conv2dGeometry` has validated.
///
/// Work is organised per batch item and, within an item, per panel of output rows: im2col fills the panel's
/// `[Cin·kh·kw, rows·Wout]` column matrix, one GEMM consumes it, and backward folds its gradient back (col2im).
/// Every loop that adds into the same element runs in a fixed order, so results depend only on the sizes.
enum Conv2dKernels {
    /// Floats in one column-matrix panel (16 MB). Tests lower it to run small convolutions through many panels.
    nonisolated(unsafe) static var scratchLimit = 1 << 22

    /// Fills `col` (`[Cin·kh·kw, outRows.count·Wout]`) from one item's input `src` (`[Cin, H, W]`) for the output
    /// rows `outRows`, zeros where the kernel reads padding. Parallel over column-matrix rows.
    static func im2col(
        _ g: Conv2dGeometry, _ src: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>,
        outRows: Range<Int>, parallel: Bool
    ) {
        let n = outRows.count * g.outW
        let body = { (range: Range<Int>) in
            for r in range {
                let c = r / (g.kernelH * g.kernelW), ki = (r / g.kernelW) % g.kernelH, kj = r % g.kernelW
                let plane = src + c * g.inPlane, dst = col + r * n
                let valid = Conv2dGeometry.validRange(
                    offset: ki, size: g.height, stride: g.strideH, pad: g.padH,
                    outSize: g.outH
                ).clamped(to: outRows)
                let ws = Conv2dGeometry.validRange(
                    offset: kj, size: g.width, stride: g.strideW, pad: g.padW,
                    outSize: g.outW)
                if valid.isEmpty || ws.isEmpty {
                    dst.update(repeating: 0, count: n)
                    continue
                }
                // Output rows above and below `valid` read only padding.
                let lead = (valid.lowerBound - outRows.lowerBound) * g.outW
                let tail = (valid.upperBound - outRows.lowerBound) * g.outW
                dst.update(repeating: 0, count: lead)
                (dst + tail).update(repeating: 0, count: n - tail)
                for oh in valid {
                    let d = dst + (oh - outRows.lowerBound) * g.outW
                    // Input row of this output row, indexed so that output column ow reads plane[rowStart + ow·sW].
                    let rowStart = (oh * g.strideH - g.padH + ki) * g.width - g.padW + kj
                    d.update(repeating: 0, count: ws.lowerBound)
                    if g.strideW == 1 {
                        (d + ws.lowerBound).update(from: plane + (rowStart + ws.lowerBound), count: ws.count)
                    } else {
                        for ow in ws { d[ow] = plane[rowStart + ow * g.strideW] }
                    }
                    (d + ws.upperBound).update(repeating: 0, count: g.outW - ws.upperBound)
                }
            }
        }
        if parallel {
            ThreadPolicy.parallelFor(g.patchSize, grain: Swift.max(1, Map.grain / n), body)
        } else {
            body(0..<g.patchSize)
        }
    }

    /// Adds the fold of `col` (`[Cin·kh·kw, outRows.count·Wout]`) into `dst` (`[Cin, H, W]`): every column-matrix
    /// entry goes back to the input pixel it was copied from. Parallel over channels, each in a fixed order.
    static func col2im(
        _ g: Conv2dGeometry, _ col: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
        outRows: Range<Int>, parallel: Bool
    ) {
        let n = outRows.count * g.outW
        let body = { (range: Range<Int>) in
            for c in range {
                let plane = dst + c * g.inPlane
                for ki in 0..<g.kernelH {
                    let valid = Conv2dGeometry.validRange(
                        offset: ki, size: g.height, stride: g.strideH, pad: g.padH,
                        outSize: g.outH
                    ).clamped(to: outRows)
                    for kj in 0..<g.kernelW {
                        let ws = Conv2dGeometry.validRange(
                            offset: kj, size: g.width, stride: g.strideW, pad: g.padW,
                            outSize: g.outW)
                        if ws.isEmpty { continue }
                        let src = col + ((c * g.kernelH + ki) * g.kernelW + kj) * n
                        for oh in valid {
                            let s = src + (oh - outRows.lowerBound) * g.outW
                            let rowStart = (oh * g.strideH - g.padH + ki) * g.width - g.padW + kj
                            if g.strideW == 1 {
                                Kernels.accumulate(
                                    plane + (rowStart + ws.lowerBound), s + ws.lowerBound,
                                    count: ws.count)
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

    /// Column-matrix scratch for one item, or nil when the input itself is the column matrix (1×1 convolution).
    static func scratch(_ g: Conv2dGeometry) -> UnsafeMutablePointer<Float>? {
        g.isPointwise ? nil : .allocate(capacity: g.patchSize * g.panelRows * g.outW)
    }

    /// out[b] = weight · col(x[b]) + bias, for every batch item.
    static func forward(
        _ g: Conv2dGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>
    ) {
        if ConvolutionKernels.current == .onednn, !g.isPointwise,
            OneDNNConv.forward(g, x: x, weight: weight, bias: bias, out: out)
        {
            return
        }
        if let shifted = ShiftedConvGeometry(g) {
            return shifted.forward(x: x, weight: weight, bias: bias, out: out)
        }
        let k = g.patchSize, n = g.outPlane
        func item(_ b: Int, _ scratch: UnsafeMutablePointer<Float>?, parallel: Bool) {
            let xb = x + b * g.inChannels * g.inPlane, ob = out + b * g.outChannels * n
            if let bias {
                for co in 0..<g.outChannels { (ob + co * n).update(repeating: bias[co], count: n) }
            }
            for rows in g.panels {
                let cols = rows.count * g.outW, first = rows.lowerBound * g.outW
                var col = xb + first
                if let scratch {
                    im2col(g, xb, scratch, outRows: rows, parallel: parallel)
                    col = UnsafePointer(scratch)
                }
                // out[b][:, panel] is [Cout, cols] = weight [Cout, K] · col [K, cols] (+ bias already in place)
                PanelGEMM.run(
                    transA: false, transB: false, m: g.outChannels, n: cols, k: k, a: weight, b: col,
                    ldb: g.isPointwise ? n : cols, beta: bias == nil ? 0 : 1, c: ob + first, ldc: n,
                    concurrent: parallel)
            }
        }
        if g.parallelOverBatch {
            ThreadPolicy.parallelItems(g.batch) { b in
                let scratch = scratch(g)
                defer { scratch?.deallocate() }
                item(b, scratch, parallel: false)
            }
        } else {
            let scratch = scratch(g)
            defer { scratch?.deallocate() }
            for b in 0..<g.batch { item(b, scratch, parallel: true) }
        }
    }

    /// Overwrites whichever of `dx` (`[B, Cin, H, W]`), `dw` (`[Cout, Cin, kh, kw]`) and `db` (`[Cout]`) are
    /// non-nil with gradients from `gradOut` (`[B, Cout, Hout, Wout]`).
    ///
    /// dW sums over items and panels in a fixed order: with concurrent items each item writes its own partial and
    /// the partials are added in item order; otherwise items and panels accumulate into dW in order (the first
    /// product overwrites, the rest add with beta = 1).
    static func backward(
        _ g: Conv2dGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        gradOut: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
        dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?
    ) {
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
        if ConvolutionKernels.current == .onednn, !g.isPointwise,
            OneDNNConv.backward(g, x: x, weight: weight, gradOut: gradOut, dx: dx, dw: dw)
        {
            return
        }
        if let shifted = ShiftedConvGeometry(g) {
            return shifted.backward(x: x, weight: weight, gradOut: gradOut, dx: dx, dw: dw)
        }
        if g.batch == 0 { dw?.update(repeating: 0, count: cout * k) }
        func item(
            _ b: Int, _ scratch: UnsafeMutablePointer<Float>?, dwTarget: UnsafeMutablePointer<Float>?,
            accumulate: Bool, parallel: Bool
        ) {
            let xb = x + b * g.inChannels * g.inPlane, gb = gradOut + b * cout * n
            let dxb = dx.map { $0 + b * g.inChannels * g.inPlane }
            if let dxb, scratch != nil { dxb.update(repeating: 0, count: g.inChannels * g.inPlane) }
            for (p, rows) in g.panels.enumerated() {
                let cols = rows.count * g.outW, first = rows.lowerBound * g.outW
                if let dwTarget {
                    var col = xb + first
                    if let scratch {
                        im2col(g, xb, scratch, outRows: rows, parallel: parallel)
                        col = UnsafePointer(scratch)
                    }
                    // dW [Cout, K] += gradOut[b][:, panel] [Cout, cols] · col [K, cols]ᵀ
                    PanelGEMM.run(
                        transA: false, transB: true, m: cout, n: k, k: cols, a: gb + first, lda: n,
                        b: col, ldb: g.isPointwise ? n : cols, beta: accumulate || p > 0 ? 1 : 0,
                        c: dwTarget, concurrent: parallel)
                }
                if let dxb {
                    // dcol [K, cols] = weight [Cout, K]ᵀ · gradOut[b][:, panel] [Cout, cols], folded back onto dx[b]
                    if let scratch {
                        PanelGEMM.run(
                            transA: true, transB: false, m: k, n: cols, k: cout, a: weight, b: gb + first,
                            ldb: n, c: scratch, concurrent: parallel)
                        col2im(g, scratch, dxb, outRows: rows, parallel: parallel)
                    } else {
                        PanelGEMM.run(
                            transA: true, transB: false, m: k, n: cols, k: cout, a: weight, b: gb + first,
                            ldb: n, c: dxb + first, ldc: n, concurrent: parallel)
                    }
                }
            }
        }
        if g.parallelOverBatch {
            let total = cout * k
            let partials = dw == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: g.batch * total)
            defer { partials?.deallocate() }
            ThreadPolicy.parallelItems(g.batch) { b in
                let scratch = scratch(g)
                defer { scratch?.deallocate() }
                item(b, scratch, dwTarget: partials.map { $0 + b * total }, accumulate: false, parallel: false)
            }
            if let dw, let partials {
                // Row by row (contiguous, vectorisable) in batch order: each element is still summed
                // p₀ + p₁ + … in the same order, so the result does not depend on the split.
                ThreadPolicy.parallelFor(total, grain: Swift.max(1, Map.grain / g.batch)) { r in
                    let dst = dw + r.lowerBound, len = r.count
                    dst.update(from: partials + r.lowerBound, count: len)
                    for b in 1..<Swift.max(g.batch, 1) {
                        Kernels.accumulate(dst, partials + b * total + r.lowerBound, count: len)
                    }
                }
            }
        } else {
            let scratch = scratch(g)
            defer { scratch?.deallocate() }
            for b in 0..<g.batch { item(b, scratch, dwTarget: dw, accumulate: b > 0, parallel: true) }
        }
    }
}
