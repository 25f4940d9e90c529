/// Copies and fills of row-structured buffers (slices, concatenations and their gradients), split across threads
/// above a fixed grain. Serial, they left one of the two cores idle in every split and concat of a training step.
extension Kernels {
    /// Floats per parallel piece: copies are bound by memory, so only large ones gain from a second thread.
    public static let copyGrain = 1 << 16

    /// For each of `rows` rows, `length` floats from `src + row·srcStride` to `dst + row·dstStride`.
    public static func copyRows(
        _ rows: Int, length: Int, from src: UnsafePointer<Float>, stride srcStride: Int,
        to dst: UnsafeMutablePointer<Float>, stride dstStride: Int
    ) {
        eachRun(rows, length) { row, column, n in
            (dst + row * dstStride + column).update(from: src + row * srcStride + column, count: n)
        }
    }

    /// For each of `rows` rows, `length` zeros at `dst + row·stride`.
    public static func zeroRows(_ rows: Int, length: Int, at dst: UnsafeMutablePointer<Float>, stride: Int) {
        eachRun(rows, length) { row, column, n in (dst + row * stride + column).update(repeating: 0, count: n) }
    }

    /// `count` zeros at `dst`.
    public static func zero(_ dst: UnsafeMutablePointer<Float>, count: Int) {
        zeroRows(1, length: count, at: dst, stride: count)
    }

    /// Splits rows × length elements into ranges of about `copyGrain` and calls `body(row, column, count)` for each
    /// stretch of a range that lies within one row.
    private static func eachRun(_ rows: Int, _ length: Int, _ body: (Int, Int, Int) -> Void) {
        guard rows > 0, length > 0 else { return }
        ThreadPolicy.parallelFor(rows * length, grain: copyGrain) { r in
            var i = r.lowerBound
            while i < r.upperBound {
                let (row, column) = i.quotientAndRemainder(dividingBy: length)
                let n = Swift.min(length - column, r.upperBound - i)
                body(row, column, n)
                i += n
            }
        }
    }
}
