/// Group normalization (PyTorch's `F.group_norm`) with fused forward and backward kernels.
///
/// Channels are split into `groups` consecutive groups; each (batch item, group) block is contiguous in memory, is
/// normalised by its own mean and biased variance, and then scaled and shifted per channel. The kernels run in
/// parallel over (batch item, group) blocks; sums inside a block are blocked SIMD sums added in Double, in an order
/// that depends only on the block size.

/// `(x − mean) / sqrt(var + eps) · weight + bias`, statistics over each (batch item, group of channels).
///
/// x is `[B, C, ...spatial]` (rank ≥ 2), weight and bias are `[C]` or nil; the result has x's shape.
public func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
    // x is [B, C, ...spatial], weight is [C], bias is [C]; out is [B, C, ...spatial]
    let op = "groupNorm"
    guard x.rank >= 2 else {
        throw TensorError.shapeMismatch(op: op, detail: "input \(shapeString(x.shape)) must be [B, C, ...spatial]")
    }
    let channels = x.shape[1]
    guard groups > 0, channels % groups == 0 else {
        throw TensorError.invalidArgument(
            op: op, detail: "\(groups) groups do not divide the \(channels) channels of input \(shapeString(x.shape))")
    }
    for (name, p) in [("weight", weight), ("bias", bias)] {
        if let p, p.shape != [channels] {
            throw TensorError.shapeMismatch(
                op: op,
                detail: "\(name) \(shapeString(p.shape)) must be [\(channels)] for input \(shapeString(x.shape))")
        }
    }
    let geo = GroupNormGeometry(
        batch: x.shape[0], channels: channels, groups: groups,
        spatial: x.shape[2...].reduce(1, *))
    let out = Tensor(uninitialized: x.shape)
    // Per-(item, group) mean and 1/std, kept for the backward pass.
    let stats = Tensor(uninitialized: [2, geo.batch * groups])
    GroupNormKernels.forward(
        geo, x: x.pointer, weight: weight?.pointer, bias: bias?.pointer, eps: eps,
        out: out.pointer, mean: stats.pointer, rstd: stats.pointer + geo.batch * groups)
    let inputs = [x] + [weight, bias].compactMap { $0 }
    return out.recorded(op, inputs) { g in
        let dx = x.requiresGrad ? Tensor(uninitialized: x.shape) : nil
        let dw = weight?.requiresGrad == true ? Tensor(uninitialized: [channels]) : nil
        let db = bias?.requiresGrad == true ? Tensor(uninitialized: [channels]) : nil
        GroupNormKernels.backward(
            geo, x: x.pointer, weight: weight?.pointer, gradOut: g.pointer,
            mean: stats.pointer, rstd: stats.pointer + geo.batch * groups,
            dx: dx?.pointer, dw: dw?.pointer, db: db?.pointer)
        return [dx] + (weight == nil ? [] : [dw]) + (bias == nil ? [] : [db])
    }
}

struct GroupNormGeometry {
    let batch, channels, groups, spatial: Int
    var channelsPerGroup: Int { channels / groups }
    /// Elements in one (item, group) block.
    var blockSize: Int { channelsPerGroup * spatial }
    var blocks: Int { batch * groups }
    /// Blocks per parallel chunk: about 64K elements each.
    var grain: Int { Swift.max(1, 65_536 / Swift.max(blockSize, 1)) }
}

/// Raw-pointer kernels behind `groupNorm`. No shape checks: the caller has validated.
enum GroupNormKernels {
    /// Elements per Float SIMD partial sum before it is added into a Double total: bounds the Float error of long
    /// reductions (a VAE group at 512×512 has a million elements) at no measurable cost.
    static let sumBlock = 4096

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// Σ f(i) over `0..<count`, where `f(i)` is the term for elements i..<i+8 and `tail(i)` the term for element i.
    /// Float SIMD sums over `sumBlock` elements are added into a Double, in an order fixed by `count` alone.
    @inline(__always)
    static func blockedSum(_ count: Int, _ f: (Int) -> SIMD8<Float>, tail: (Int) -> Float) -> Double {
        var total = 0.0
        var start = 0
        while start < count {
            let end = Swift.min(count, start + sumBlock)
            var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
            var i = start
            while i + 16 <= end {
                acc0 += f(i)
                acc1 += f(i + 8)
                i += 16
            }
            if i + 8 <= end {
                acc0 += f(i)
                i += 8
            }
            var s = (acc0 + acc1).sum()
            while i < end {
                s += tail(i)
                i += 1
            }
            total += Double(s)
            start = end
        }
        return total
    }

    static func forward(
        _ g: GroupNormGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
        bias: UnsafePointer<Float>?, eps: Float, out: UnsafeMutablePointer<Float>,
        mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
    ) {
        let m = g.blockSize, s = g.spatial, cpg = g.channelsPerGroup
        ThreadPolicy.parallelFor(g.blocks, grain: g.grain) { r in
            for blk in r {
                let xb = x + blk * m, ob = out + blk * m
                let mu = Float(blockedSum(m, { load(xb, $0) }, tail: { xb[$0] }) / Double(Swift.max(m, 1)))
                // Two passes: Σ(x − mean)² does not cancel the way Σx² − n·mean² does.
                let ss = blockedSum(
                    m,
                    { i in
                        let d = load(xb, i) - mu
                        return d * d
                    }, tail: { i in (xb[i] - mu) * (xb[i] - mu) })
                let rs = 1 / (Float(ss / Double(Swift.max(m, 1))) + eps).squareRoot()
                mean[blk] = mu
                rstd[blk] = rs
                let firstChannel = (blk % g.groups) * cpg
                for c in 0..<cpg {
                    let ch = firstChannel + c
                    // y = (x − mean) · scale + shift with scale = rstd · w. PyTorch folds the mean into the shift
                    // (x · scale + (b − mean · scale)), which cancels badly when |mean| ≫ std; this costs nothing more.
                    let scale = rs * (weight?[ch] ?? 1), shift = bias?[ch] ?? 0
                    let xc = xb + c * s, oc = ob + c * s
                    var i = 0
                    while i + 8 <= s {
                        store((load(xc, i) - mu) * scale + shift, oc, i)
                        i += 8
                    }
                    while i < s {
                        oc[i] = (xc[i] - mu) * scale + shift
                        i += 1
                    }
                }
            }
        }
    }

    /// With x̂ = (x − mean)·rstd and dx̂ = dy·w, over each block of M elements:
    /// dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)); dw[c] = Σ dy·x̂ and db[c] = Σ dy over items and pixels.
    static func backward(
        _ g: GroupNormGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
        gradOut: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?,
        db: UnsafeMutablePointer<Float>?
    ) {
        let m = g.blockSize, s = g.spatial, cpg = g.channelsPerGroup
        // Per (item, channel): Σ dy and Σ dy·x̂. Summed over items afterwards in item order for dw and db.
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * g.batch * g.channels)
        defer { sums.deallocate() }
        let sumDy = sums, sumDyXhat = sums + g.batch * g.channels
        ThreadPolicy.parallelFor(g.blocks, grain: g.grain) { r in
            for blk in r {
                let xb = x + blk * m, gb = gradOut + blk * m
                let mu = mean[blk], rs = rstd[blk]
                let firstChannel = (blk % g.groups) * cpg
                let item = blk / g.groups
                var meanDxhat = 0.0, meanDxhatXhat = 0.0
                for c in 0..<cpg {
                    let ch = firstChannel + c
                    let xc = xb + c * s, gc = gb + c * s
                    let sdy = blockedSum(s, { load(gc, $0) }, tail: { gc[$0] })
                    let sdyx = blockedSum(s, { load(gc, $0) * (load(xc, $0) - mu) }, tail: { gc[$0] * (xc[$0] - mu) })
                    let sdyxhat = sdyx * Double(rs)
                    sumDy[item * g.channels + ch] = sdy
                    sumDyXhat[item * g.channels + ch] = sdyxhat
                    let w = Double(weight?[ch] ?? 1)
                    meanDxhat += w * sdy
                    meanDxhatXhat += w * sdyxhat
                }
                guard let dx else { continue }
                meanDxhat /= Double(m)
                meanDxhatXhat /= Double(m)
                // dx = (rstd·w)·dy + (−rstd²·mean(dx̂·x̂))·(x − mean) − rstd·mean(dx̂) = a·dy + b·(x − mean) + c
                let rsd = Double(rs)
                let bxf = Float(-rsd * rsd * meanDxhatXhat), cx = Float(-rsd * meanDxhat)
                let dxb = dx + blk * m
                for c in 0..<cpg {
                    let ch = firstChannel + c
                    let a = rs * (weight?[ch] ?? 1)
                    let xc = xb + c * s, gc = gb + c * s, dc = dxb + c * s
                    var i = 0
                    while i + 8 <= s {
                        store(load(gc, i) * a + (load(xc, i) - mu) * bxf + cx, dc, i)
                        i += 8
                    }
                    while i < s {
                        dc[i] = gc[i] * a + (xc[i] - mu) * bxf + cx
                        i += 1
                    }
                }
            }
        }
        for ch in 0..<g.channels {
            var sdy = 0.0, sdyx = 0.0
            for item in 0..<g.batch {
                sdy += sumDy[item * g.channels + ch]
                sdyx += sumDyXhat[item * g.channels + ch]
            }
            db?[ch] = Float(sdy)
            dw?[ch] = Float(sdyx)
        }
    }
}
