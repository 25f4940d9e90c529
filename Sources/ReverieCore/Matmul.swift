import CBLAS

/// Matrix products through `cblas_sgemm`. Transposed operands are BLAS flags, never copies.
public enum GEMM {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major, with op(A) of shape m×k and op(B) k×n.
    @inlinable
    public static func run(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, beta: Float = 0,
        c: UnsafeMutablePointer<Float>
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
            beta, c, Int32(n))
    }

    /// Runs `count` independent products; small ones in parallel with single-threaded BLAS.
    static func batched(count: Int, flopsEach: Int, _ body: (Int) -> Void) {
        if count > 1 && flopsEach < 1 << 24 {
            ThreadPolicy.parallelItems(count, body)
        } else {
            for i in 0..<count { body(i) }
        }
    }
}

/// Matrix product of the last two dimensions: `op(a) · op(b)`.
///
/// `a` is `[..., m, k]` (or `[..., k, m]` with `transposeA`), `b` is `[k, n]` (shared across `a`'s batch) or
/// `[..., k, n]` with the same batch shape as `a` (or `[..., n, k]` with `transposeB`).
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
    let op = "matmul"
    guard a.rank >= 2, b.rank >= 2 else {
        throw TensorError.shapeMismatch(
            op: op, detail: "operands need rank ≥ 2, got \(shapeString(a.shape)) and \(shapeString(b.shape))")
    }
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, k) = transposeA ? (ac, ar) : (ar, ac)
    let (kb, n) = transposeB ? (bc, br) : (br, bc)
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    guard k == kb, b.rank == 2 || batchA == batchB else {
        throw TensorError.shapeMismatch(
            op: op,
            detail: "\(shapeString(a.shape))\(transposeA ? "ᵀ" : "") · \(shapeString(b.shape))\(transposeB ? "ᵀ" : "")")
    }
    let batch = batchA.elementCount
    let out = Tensor(uninitialized: batchA + [m, n])
    let shared = b.rank == 2
    if shared && !transposeA {
        // One GEMM over all of a's rows.
        GEMM.run(
            transA: false, transB: transposeB, m: batch * m, n: n, k: k, a: a.pointer, b: b.pointer, c: out.pointer)
    } else {
        let (ap, bp, cp) = (a.pointer, b.pointer, out.pointer)
        GEMM.batched(count: batch, flopsEach: m * n * k) { i in
            GEMM.run(
                transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                a: ap + i * m * k, b: shared ? bp : bp + i * k * n, c: cp + i * m * n)
        }
    }
    return out.recorded(op, [a, b]) { g in
        var ga: Tensor?, gb: Tensor?
        let gp = g.pointer
        if a.requiresGrad {
            let da = Tensor(uninitialized: a.shape)
            let (dp, bp) = (da.pointer, b.pointer)
            if shared && !transposeA {
                GEMM.run(transA: false, transB: !transposeB, m: batch * m, n: k, k: n, a: gp, b: bp, c: dp)
            } else {
                GEMM.batched(count: batch, flopsEach: m * n * k) { i in
                    let bi = shared ? bp : bp + i * k * n
                    if transposeA {  // dA = op(B) · dCᵀ, shape k×m
                        GEMM.run(
                            transA: transposeB, transB: true, m: k, n: m, k: n, a: bi, b: gp + i * m * n,
                            c: dp + i * m * k)
                    } else {  // dA = dC · op(B)ᵀ, shape m×k
                        GEMM.run(
                            transA: false, transB: !transposeB, m: m, n: k, k: n, a: gp + i * m * n, b: bi,
                            c: dp + i * m * k)
                    }
                }
            }
            ga = da
        }
        if b.requiresGrad {
            let db = Tensor(zeros: b.shape)
            let (dp, ap) = (db.pointer, a.pointer)
            if shared && !transposeA {
                if transposeB {  // dB = dCᵀ · A, n×k
                    GEMM.run(transA: true, transB: false, m: n, n: k, k: batch * m, a: gp, b: ap, c: dp)
                } else {  // dB = Aᵀ · dC, k×n
                    GEMM.run(transA: true, transB: false, m: k, n: n, k: batch * m, a: ap, b: gp, c: dp)
                }
            } else {
                // Shared b accumulates over the batch serially (beta = 1); per-batch b in parallel.
                let body: (Int) -> Void = { i in
                    let ai = ap + i * m * k, gi = gp + i * m * n
                    let di = shared ? dp : dp + i * k * n
                    if transposeB {  // dB = dCᵀ · op(A), n×k
                        GEMM.run(transA: true, transB: transposeA, m: n, n: k, k: m, a: gi, b: ai, beta: 1, c: di)
                    } else {  // dB = op(A)ᵀ · dC, k×n
                        GEMM.run(transA: !transposeA, transB: false, m: k, n: n, k: m, a: ai, b: gi, beta: 1, c: di)
                    }
                }
                if shared {
                    for i in 0..<batch { body(i) }
                } else {
                    GEMM.batched(count: batch, flopsEach: m * n * k, body)
                }
            }
            gb = db
        }
        return [ga, gb]
    }
}
