/// Scaled dot-product attention, fused: scores, masks, softmax and the value product per (batch, head),
/// with the probabilities kept for the backward pass.
///
/// q is [B, H, Tq, D]; k is [B, Hkv, Tk, D]; v is [B, Hkv, Tk, Dv]; H must be a multiple of Hkv (grouped-query
/// attention shares each key/value head across H / Hkv query heads without copying). Returns [B, H, Tq, Dv].
///
/// - `causal`: query i sees keys j ≤ i + (Tk − Tq), so cached prefixes line up (bottom-right alignment).
/// - `keyPaddingMask`: [B, Tk], non-zero where a key is real, zero where it is padding.
/// - `additiveMask`: added to the scaled scores before the softmax, shape [B or 1, H or 1, Tq, Tk]; use 0 to allow
///   and -infinity to forbid (Q-Former query/text masks, bidirectional image spans inside a causal sequence,
///   packed sequences). Not differentiated.
/// - `scale`: defaults to 1/√D. A query row with every key masked outputs zeros.
public func scaledDotProductAttention(
    _ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool = false,
    keyPaddingMask: Tensor? = nil, additiveMask: Tensor? = nil,
    scale: Float? = nil
) throws -> Tensor {
    let op = "scaledDotProductAttention"
    guard q.rank == 4, k.rank == 4, v.rank == 4 else {
        throw TensorError.shapeMismatch(
            op: op,
            detail:
                "q, k, v must be rank 4; got \(shapeString(q.shape)), \(shapeString(k.shape)), \(shapeString(v.shape))")
    }
    let (b, h, tq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    let (hkv, tk, dv) = (k.shape[1], k.shape[2], v.shape[3])
    guard k.shape[0] == b, k.shape[3] == d, v.shape[0] == b, v.shape[1] == hkv, v.shape[2] == tk, hkv > 0, h % hkv == 0
    else {
        throw TensorError.shapeMismatch(
            op: op, detail: "q \(shapeString(q.shape)), k \(shapeString(k.shape)), v \(shapeString(v.shape))")
    }
    if let m = keyPaddingMask, m.shape != [b, tk] {
        throw TensorError.shapeMismatch(
            op: op, detail: "keyPaddingMask \(shapeString(m.shape)), expected \(shapeString([b, tk]))")
    }
    if let m = additiveMask {
        guard m.rank == 4, m.shape[0] == 1 || m.shape[0] == b, m.shape[1] == 1 || m.shape[1] == h,
            m.shape[2] == tq, m.shape[3] == tk
        else {
            throw TensorError.shapeMismatch(
                op: op, detail: "additiveMask \(shapeString(m.shape)), expected [\(b) or 1, \(h) or 1, \(tq), \(tk)]")
        }
    }
    let alpha = scale ?? 1 / Float(d).squareRoot()
    let addp = additiveMask?.pointer
    let (maskBatchStride, maskHeadStride) =
        additiveMask.map {
            ($0.shape[0] == 1 ? 0 : $0.shape[1] * tq * tk, $0.shape[1] == 1 ? 0 : tq * tk)
        } ?? (0, 0)
    let group = h / hkv
    let probs = Tensor(uninitialized: [b, h, tq, tk])
    let out = Tensor(uninitialized: [b, h, tq, dv])
    let (qp, kp, vp, pp, op_) = (q.pointer, k.pointer, v.pointer, probs.pointer, out.pointer)
    let maskp = keyPaddingMask?.pointer
    let shift = tk - tq
    ThreadPolicy.parallelItems(b * h) { item in
        let bi = item / h, kvItem = bi * hkv + (item % h) / group
        let qi = qp + item * tq * d, ki = kp + kvItem * tk * d, vi = vp + kvItem * tk * dv
        let p = pp + item * tq * tk
        GEMM.run(transA: false, transB: true, m: tq, n: tk, k: d, alpha: alpha, a: qi, b: ki, c: p)
        let addRows = addp.map { $0 + bi * maskBatchStride + (item % h) * maskHeadStride }
        for i in 0..<tq {
            let row = p + i * tk
            // causal: the keys after the query's own position get probability 0 without entering the softmax
            let seen = causal ? Swift.min(tk, Swift.max(0, i + shift + 1)) : tk
            if let addRows { for j in 0..<seen { row[j] += addRows[i * tk + j] } }
            if let maskp { for j in 0..<seen where maskp[bi * tk + j] == 0 { row[j] = -.infinity } }
            Softmax.row(row, row, seen)
            if seen < tk { (row + seen).update(repeating: 0, count: tk - seen) }
        }
        GEMM.run(transA: false, transB: false, m: tq, n: dv, k: tk, a: p, b: vi, c: op_ + item * tq * dv)
    }
    return out.recorded(op, [q, k, v]) { g in
        let pp = probs.pointer  // captured tensor keeps the probabilities alive until backward
        let dq = Tensor(uninitialized: q.shape), dk = Tensor(zeros: k.shape), dvT = Tensor(zeros: v.shape)
        let (gp, dqp, dkp, dvp) = (g.pointer, dq.pointer, dk.pointer, dvT.pointer)
        // One work item per key/value head, so the heads sharing it accumulate dK and dV without races.
        ThreadPolicy.parallelItems(b * hkv) { kvItem in
            let bi = kvItem / hkv
            let ki = kp + kvItem * tk * d, vi = vp + kvItem * tk * dv
            var scratch = [Float](repeating: 0, count: tq * tk)
            scratch.withUnsafeMutableBufferPointer { buf in
                let ds = buf.baseAddress!
                for hh in 0..<group {
                    let item = bi * h + (kvItem % hkv) * group + hh
                    let p = pp + item * tq * tk, gi = gp + item * tq * dv, qi = qp + item * tq * d
                    // dV += Pᵀ dO ; dP = dO Vᵀ
                    GEMM.run(
                        transA: true, transB: false, m: tk, n: dv, k: tq, a: p, b: gi, beta: 1,
                        c: dvp + kvItem * tk * dv)
                    GEMM.run(transA: false, transB: true, m: tq, n: tk, k: dv, a: gi, b: vi, c: ds)
                    // dS = α · P ⊙ (dP − rowsum(dP ⊙ P))
                    for i in 0..<tq {
                        let pr = p + i * tk, dr = ds + i * tk
                        let s = Kernels.dot(pr, dr, count: tk)
                        for j in 0..<tk { dr[j] = alpha * pr[j] * (dr[j] - s) }
                    }
                    // dQ = dS K ; dK += dSᵀ Q
                    GEMM.run(transA: false, transB: false, m: tq, n: d, k: tk, a: ds, b: ki, c: dqp + item * tq * d)
                    GEMM.run(
                        transA: true, transB: false, m: tk, n: d, k: tq, a: ds, b: qi, beta: 1,
                        c: dkp + kvItem * tk * d)
                }
            }
        }
        return [dq, dk, dvT]
    }
}
