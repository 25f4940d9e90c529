/// Stride-1 convolutions without a column matrix: one GEMM per kernel offset over the zero-padded input.
///
/// With the input padded to `Hp × Wp` and the output computed on the padded width (`Hout × Wp`, the last `kw − 1`
/// columns of each row are junk and dropped), the input seen by kernel offset (ki, kj) is the padded input itself
/// shifted by `ki·Wp + kj`: a `[Cin, Hout·Wp]` matrix with row stride `plane`, no copying. So
/// `out = Σ_k W_k · shift_k(x)` with `W_k = weight[:, :, ki, kj]` as `[Cout, Cin]` — kh·kw GEMMs of depth Cin
/// accumulating into one output, in place of an im2col that writes (and the GEMM then re-reads) kh·kw copies of the
/// input. Backward is the same in reverse: `dW_k = gradOut · shift_k(x)ᵀ` and `shift_k(dx) += W_kᵀ · gradOut`, with
/// gradOut laid on the padded width and zero in the junk columns, so they contribute nothing.
///
/// Each padded plane carries `kw − 1` floats of slack so that the last output row's junk columns read zeros and no
/// two channels' shifted windows overlap (concurrent GEMM blocks never write the same float). All sums run in a
/// fixed order (offsets in order, then items in order), so results depend only on the sizes.
struct ShiftedConvGeometry {
    /// Below 16×16 outputs the im2col GEMM wins (`reverie bench core`: a 3×3 convolution 128 → 128 at 8×8 ran at
    /// 0.55 of the ceiling shifted against 0.64; 64 → 32 at 32×32 at 0.68 against 0.45; 64 → 64 at 16×16 level).
    /// Tests lower it to send small convolutions this way.
    nonisolated(unsafe) static var minOutPlane = 256
    let g: Conv2dGeometry
    /// Padded input size and the floats per padded channel plane (with slack).
    let paddedH, paddedW, plane: Int
    /// Output columns on the padded width: `outH · paddedW`.
    let wideOut: Int

    /// The shifted form of `g`, or nil unless stride is 1, the kernel is larger than 1×1 (a pointwise convolution is
    /// already a GEMM), the output has at least `minOutPlane` pixels and one item's buffers fit
    /// `Conv2dKernels.scratchLimit`.
    init?(_ g: Conv2dGeometry) {
        guard g.strideH == 1, g.strideW == 1, g.kernelH * g.kernelW > 1, g.outPlane >= Self.minOutPlane else {
            return nil
        }
        (paddedH, paddedW) = (g.height + 2 * g.padH, g.width + 2 * g.padW)
        plane = paddedH * paddedW + g.kernelW - 1
        wideOut = g.outH * paddedW
        self.g = g
        guard 2 * g.inChannels * plane + g.outChannels * wideOut <= Conv2dKernels.scratchLimit else { return nil }
    }

    var offsets: Int { g.kernelH * g.kernelW }
    func shift(_ k: Int) -> Int { (k / g.kernelW) * paddedW + k % g.kernelW }

    /// weight [Cout, Cin, kh, kw] → [kh·kw, Cout, Cin].
    func weightsByOffset(_ weight: UnsafePointer<Float>) -> UnsafeMutablePointer<Float> {
        let (cout, cin, n) = (g.outChannels, g.inChannels, offsets)
        let wk = UnsafeMutablePointer<Float>.allocate(capacity: n * cout * cin)
        for co in 0..<cout {
            for ci in 0..<cin {
                let src = weight + (co * cin + ci) * n
                for k in 0..<n { wk[(k * cout + co) * cin + ci] = src[k] }
            }
        }
        return wk
    }

    /// One item's input [Cin, H, W] → padded planes [Cin, plane], zeros around.
    func pad(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        dst.update(repeating: 0, count: g.inChannels * plane)
        for c in 0..<g.inChannels {
            for h in 0..<g.height {
                (dst + c * plane + (h + g.padH) * paddedW + g.padW).update(
                    from: src + (c * g.height + h) * g.width,
                    count: g.width)
            }
        }
    }

    /// One item's [C, outH, outW] ↔ [C, outH, paddedW] (junk columns zero when widening).
    func widen(_ src: UnsafePointer<Float>, channels: Int, into dst: UnsafeMutablePointer<Float>) {
        let junk = paddedW - g.outW
        for r in 0..<(channels * g.outH) {
            (dst + r * paddedW).update(from: src + r * g.outW, count: g.outW)
            (dst + r * paddedW + g.outW).update(repeating: 0, count: junk)
        }
    }

    func narrow(_ src: UnsafePointer<Float>, channels: Int, into dst: UnsafeMutablePointer<Float>) {
        for r in 0..<(channels * g.outH) { (dst + r * g.outW).update(from: src + r * paddedW, count: g.outW) }
    }

    /// Padded planes [Cin, plane] → the input's interior [Cin, H, W].
    func unpad(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        for c in 0..<g.inChannels {
            for h in 0..<g.height {
                (dst + (c * g.height + h) * g.width).update(
                    from: src + c * plane + (h + g.padH) * paddedW + g.padW,
                    count: g.width)
            }
        }
    }

    /// out[b] = Σ_k W_k · shift_k(x[b]) + bias for every item.
    func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>
    ) {
        let (cin, cout) = (g.inChannels, g.outChannels)
        let wk = weightsByOffset(weight)
        defer { wk.deallocate() }
        eachItem(scratch: cin * plane + cout * wideOut) { b, xp, parallel in
            let wide = xp + cin * plane
            pad(x + b * cin * g.inPlane, into: xp)
            if let bias {
                for co in 0..<cout { (wide + co * wideOut).update(repeating: bias[co], count: wideOut) }
            }
            for k in 0..<offsets {
                PanelGEMM.run(
                    transA: false, transB: false, m: cout, n: wideOut, k: cin, a: wk + k * cout * cin,
                    b: xp + shift(k), ldb: plane, beta: bias != nil || k > 0 ? 1 : 0, c: wide,
                    concurrent: parallel)
            }
            narrow(wide, channels: cout, into: out + b * cout * g.outPlane)
        }
    }

    /// Runs `body(item, scratch, parallel)` for every batch item: items side by side, each with its own scratch of
    /// `count` floats and single-threaded GEMMs, when they are small (`Conv2dGeometry.parallelOverBatch`); else in
    /// order, sharing one scratch, each GEMM split into concurrent blocks.
    func eachItem(scratch count: Int, _ body: (Int, UnsafeMutablePointer<Float>, Bool) -> Void) {
        func withScratch(_ run: (UnsafeMutablePointer<Float>) -> Void) {
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { scratch.deallocate() }
            run(scratch)
        }
        if g.parallelOverBatch {
            ThreadPolicy.parallelItems(g.batch) { b in withScratch { body(b, $0, false) } }
        } else {
            withScratch { scratch in
                for b in 0..<g.batch { body(b, scratch, true) }
            }
        }
    }

    /// The gradients `Conv2dKernels.backward` asks for (dx, dw), db aside.
    func backward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOut: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?
    ) {
        let (cin, cout, n) = (g.inChannels, g.outChannels, offsets)
        let wk = dx == nil ? nil : weightsByOffset(weight)  // only dx reads the weights
        defer { wk?.deallocate() }
        let total = n * cout * cin
        // dW by offset, [kh·kw, Cout, Cin]: one partial per item when items run concurrently, else one running sum.
        let partials =
            dw == nil
            ? nil
            : UnsafeMutablePointer<Float>.allocate(capacity: (g.parallelOverBatch ? g.batch : 1) * total)
        defer { partials?.deallocate() }
        if g.batch == 0 { partials?.update(repeating: 0, count: total) }
        eachItem(scratch: 2 * cin * plane + cout * wideOut) { b, xp, parallel in
            // Concurrent items each write their own partial; in order, the first overwrites and the rest add.
            let dwTarget = partials.map { g.parallelOverBatch ? $0 + b * total : $0 }
            let accumulate = !g.parallelOverBatch && b > 0
            let dxp = xp + cin * plane, wide = dxp + cin * plane
            widen(gradOut + b * cout * g.outPlane, channels: cout, into: wide)
            if let dwTarget {
                pad(x + b * cin * g.inPlane, into: xp)
                for k in 0..<n {
                    // dW_k [Cout, Cin] (+)= gradOut [Cout, wideOut] · shift_k(x)ᵀ [wideOut, Cin]
                    PanelGEMM.run(
                        transA: false, transB: true, m: cout, n: cin, k: wideOut, a: wide, b: xp + shift(k),
                        ldb: plane, beta: accumulate ? 1 : 0, c: dwTarget + k * cout * cin,
                        concurrent: parallel)
                }
            }
            if let dx, let wk {
                dxp.update(repeating: 0, count: cin * plane)
                for k in 0..<n {
                    // shift_k(dx) [Cin, wideOut] += W_kᵀ [Cin, Cout] · gradOut [Cout, wideOut]
                    PanelGEMM.run(
                        transA: true, transB: false, m: cin, n: wideOut, k: cout, a: wk + k * cout * cin,
                        b: wide, beta: 1, c: dxp + shift(k), ldc: plane, concurrent: parallel)
                }
                unpad(dxp, into: dx + b * cin * g.inPlane)
            }
        }
        if g.parallelOverBatch, let partials {
            // Items added in order, element by element, whatever the split.
            ThreadPolicy.parallelFor(total, grain: Swift.max(1, Map.grain / g.batch)) { r in
                for b in 1..<g.batch {
                    Kernels.accumulate(partials + r.lowerBound, partials + b * total + r.lowerBound, count: r.count)
                }
            }
        }
        if let dw, let partials {
            // [kh·kw, Cout, Cin] → [Cout, Cin, kh, kw]
            for co in 0..<cout {
                for ci in 0..<cin {
                    let dst = dw + (co * cin + ci) * n
                    for k in 0..<n { dst[k] = partials[(k * cout + co) * cin + ci] }
                }
            }
        }
    }
}
