/// Elementwise SIMD loops over contiguous buffers, parallel above a fixed grain. Full vectors are loaded directly;
/// the tail of each chunk is padded into one vector, so a kernel is written once as a `SIMD8<Float>` function.
public enum Map {
    public static let grain = 16_384

    @inlinable @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int, _ n: Int) -> SIMD8<Float> {
        if n == 8 { return UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) }
        var v = SIMD8<Float>()
        for j in 0..<n { v[j] = p[i + j] }
        return v
    }

    @inlinable @inline(__always)
    static func full(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inlinable @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ n: Int) {
        if n == 8 {
            UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
            return
        }
        for j in 0..<n { p[i + j] = v[j] }
    }

    /// `out[i] = f(x[i])`
    @inlinable @inline(__always)
    public static func unary(
        _ count: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        _ f: (SIMD8<Float>) -> SIMD8<Float>
    ) {
        ThreadPolicy.parallelFor(count, grain: grain) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                (UnsafeMutableRawPointer(out + i)).storeBytes(of: f(full(x, i)), as: SIMD8<Float>.self)
                i += 8
            }
            if i < r.upperBound {
                let n = r.upperBound - i
                store(f(load(x, i, n)), out, i, n)
            }
        }
    }

    /// `out[i] = f(x[i], y[i])`
    @inlinable @inline(__always)
    public static func binary(
        _ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>
    ) {
        ThreadPolicy.parallelFor(count, grain: grain) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                (UnsafeMutableRawPointer(out + i)).storeBytes(of: f(full(x, i), full(y, i)), as: SIMD8<Float>.self)
                i += 8
            }
            if i < r.upperBound {
                let n = r.upperBound - i
                store(f(load(x, i, n), load(y, i, n)), out, i, n)
            }
        }
    }

    /// `out[i] = f(x[i], y[i], z[i])`
    @inlinable @inline(__always)
    public static func ternary(
        _ count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
        _ z: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        _ f: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>
    ) {
        ThreadPolicy.parallelFor(count, grain: grain) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                (UnsafeMutableRawPointer(out + i)).storeBytes(
                    of: f(full(x, i), full(y, i), full(z, i)), as: SIMD8<Float>.self)
                i += 8
            }
            if i < r.upperBound {
                let n = r.upperBound - i
                store(f(load(x, i, n), load(y, i, n), load(z, i, n)), out, i, n)
            }
        }
    }
}
