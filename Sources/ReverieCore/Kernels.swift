/// Raw-pointer kernels shared by ops and their backward rules. No shape checks: callers have validated.
public enum Kernels {
    @inlinable
    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        Map.binary(count, a, b, out, +)  // SIMD: the scalar loop does not vectorise (possible overlap)
    }

    @inlinable
    public static func addInPlace(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
        ThreadPolicy.parallelFor(count, grain: 65_536) { r in
            accumulate(a + r.lowerBound, b + r.lowerBound, count: r.count)
        }
    }

    /// `dst[i] += src[i]` on one thread, eight lanes at a time (the scalar loop does not vectorise: the compiler
    /// cannot rule out overlap). Each element gets the one addition either way, so results are unchanged.
    @inlinable
    public static func accumulate(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let sum =
                UnsafeRawPointer(dst + i).loadUnaligned(as: SIMD8<Float>.self)
                + UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: sum, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            dst[i] += src[i]
            i += 1
        }
    }

    /// `out[i] = a[i] * s`
    @inlinable
    public static func scale(_ a: UnsafePointer<Float>, _ s: Float, _ out: UnsafeMutablePointer<Float>, count: Int) {
        ThreadPolicy.parallelFor(count, grain: 65_536) { r in
            for i in r { out[i] = a[i] * s }
        }
    }

    /// Sum of `count` values with eight independent accumulators (vectorises; order fixed by `count` alone).
    @inlinable
    public static func sum(_ a: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < count {
            s += a[i]
            i += 1
        }
        return s
    }

    /// Dot product with eight independent accumulators.
    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            acc.addProduct(x, y)
            i += 8
        }
        var s = acc.sum()
        while i < count {
            s += a[i] * b[i]
            i += 1
        }
        return s
    }
}
