/// Vectorised transcendental functions on `SIMD8<Float>`, accurate to a few ULP over the ranges ops meet.
/// They exist because libm calls per lane dominate elementwise kernels (GELU, SiLU, softmax) otherwise.
public enum FastMath {
    /// e^x (Cephes-style range reduction + degree-6 polynomial). Inputs below -87.3 flush to 0, above 88.7 saturate.
    @inlinable @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: -87.3), hi = SIMD8<Float>(repeating: 88.7)
        let clamped = x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
        // Adding 1.5·2²³ rounds to the nearest integer and leaves it in the low mantissa bits: a branch-free,
        // vectorised float→int conversion (SIMD8<Int32>(_:rounding:) is scalarised per lane).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped.addingProduct(n, SIMD8(repeating: -0.693_359_375))
        r = r.addingProduct(n, SIMD8(repeating: 2.121_944_4e-4))
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        p = (p * r * r) + r + 1
        let e = ((unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000) &+ 127) &<< 23
        let y = p * unsafeBitCast(e, to: SIMD8<Float>.self)
        return y.replacing(with: 0, where: x .< -87.3)
    }

    /// Logistic sigmoid 1 / (1 + e^-x).
    @inlinable @inline(__always)
    public static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + exp(-x)) }

    /// Hyperbolic tangent via 1 - 2 / (e^2x + 1) (absolute error ~1e-7).
    @inlinable @inline(__always)
    public static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 - 2 / (exp(x + x) + 1) }

    /// Error function (Abramowitz & Stegun 7.1.26, absolute error ≤ 1.5e-7).
    @inlinable @inline(__always)
    public static func erf(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let a = abs(x)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p = SIMD8<Float>(repeating: 1.061_405_429)
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let y = 1 - p * t * exp(-a * a)
        return y.replacing(with: -y, where: x .< 0)
    }

    @inlinable @inline(__always)
    static func abs(_ x: SIMD8<Float>) -> SIMD8<Float> { x.replacing(with: -x, where: x .< 0) }
}
