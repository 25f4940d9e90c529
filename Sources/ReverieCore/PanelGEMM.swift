import CBLAS

/// Row-major products for the convolution kernels, with C split into fixed blocks that run concurrently, each one
/// single-threaded BLAS call.
///
/// Threaded OpenBLAS sgemm is not bit-identical to single-threaded sgemm (measured with OpenBLAS 0.3.21: last-bit
/// differences between one and two threads), so handing large products to BLAS threads would make results depend
/// on the thread count. The blocks here depend only on (m, n, k).
enum PanelGEMM {
    /// Multiply-adds per block: about a millisecond of one core, enough to amortise re-packing the shared operand.
    static let blockWork = 1 << 25
    static let maxBlocks = 16
    /// Narrower blocks would re-pack the shared operand too often for the work they do.
    static let minColumns = 256, minRows = 64

    /// C[m×n] = op(A)·op(B) + beta·C, row-major, leading dimensions defaulting to compact storage. `concurrent`
    /// splits C into blocks run in parallel; without it, one BLAS call (for callers that already run in parallel
    /// with single-threaded BLAS).
    static func run(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int? = nil,
        b: UnsafePointer<Float>, ldb: Int? = nil, beta: Float = 0, c: UnsafeMutablePointer<Float>,
        ldc: Int? = nil, concurrent: Bool
    ) {
        guard m > 0, n > 0 else { return }
        let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n), ldc = ldc ?? n
        func block(_ rows: Range<Int>, _ cols: Range<Int>) {
            // Row i of op(A) starts at a + i·lda (column i of A when transposed); column j of op(B) likewise.
            let ap = transA ? a + rows.lowerBound : a + rows.lowerBound * lda
            let bp = transB ? b + cols.lowerBound * ldb : b + cols.lowerBound
            cblas_sgemm(
                CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(rows.count), Int32(cols.count), Int32(k), 1, ap, Int32(lda), bp, Int32(ldb), beta,
                c + rows.lowerBound * ldc + cols.lowerBound, Int32(ldc))
        }
        guard concurrent else { return block(0..<m, 0..<n) }
        let wanted = Swift.min(maxBlocks, Swift.max(1, m * n * k / blockWork))
        let colBlocks = Swift.max(1, Swift.min(wanted, n / minColumns))
        let rowBlocks = Swift.max(1, Swift.min(wanted / colBlocks, m / minRows))
        let cols = roundUp((n + colBlocks - 1) / colBlocks, 16), rows = roundUp((m + rowBlocks - 1) / rowBlocks, 16)
        let (br, bc) = ((m + rows - 1) / rows, (n + cols - 1) / cols)
        if br * bc == 1 {
            ThreadPolicy.withSerialBLAS { block(0..<m, 0..<n) }
            return
        }
        ThreadPolicy.parallelItems(br * bc) { p in
            let (i, j) = (p / bc, p % bc)
            block(i * rows..<Swift.min(m, (i + 1) * rows), j * cols..<Swift.min(n, (j + 1) * cols))
        }
    }

    private static func roundUp(_ x: Int, _ multiple: Int) -> Int { (x + multiple - 1) / multiple * multiple }
}
