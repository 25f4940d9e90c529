// Float32 → 16-bit float narrowing, done in Swift rather than by HDF5's soft conversion so the rounding is exactly
// IEEE 754 round-to-nearest-even on every platform (Swift's `Float16` is unavailable on Intel macOS, and HDF5's
// float-to-float conversion has its own rounding and overflow rules). Widening back to Float32 is exact, so reading
// leaves it to HDF5.

/// The IEEE 754 binary16 bit pattern nearest to `value` (ties to even; overflow gives ±infinity; NaN stays NaN).
func float16Bits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF)
    let mantissa = bits & 0x7F_FFFF
    if exponent == 0xFF {
        // Infinity, or NaN with a quiet bit and the top of the payload.
        return sign | 0x7C00 | (mantissa == 0 ? 0 : 0x0200 | UInt16(truncatingIfNeeded: mantissa >> 13))
    }
    let halfExponent = exponent - 127 + 15
    if halfExponent >= 0x1F { return sign | 0x7C00 }
    if halfExponent <= 0 {
        // Subnormal half (or zero): value = significand × 2^(halfExponent − 38), half step = 2^-24.
        guard halfExponent >= -10 else { return sign }
        let significand = mantissa | 0x80_0000
        let shift = UInt32(14 - halfExponent)
        return sign | UInt16(truncatingIfNeeded: roundShiftRightToEven(significand, by: shift))
    }
    // Normal half. A carry out of the mantissa bumps the exponent, up to infinity, which is the correct result.
    let rounded = roundShiftRightToEven(mantissa, by: 13)
    return sign | UInt16(truncatingIfNeeded: (UInt32(halfExponent) << 10) + rounded)
}

/// The bfloat16 bit pattern nearest to `value` (the top half of a Float32, rounded to nearest even).
func bfloat16Bits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
    let roundingBias: UInt32 = 0x7FFF + ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
}

/// `value >> shift`, rounded to nearest with ties to even.
func roundShiftRightToEven(_ value: UInt32, by shift: UInt32) -> UInt32 {
    let kept = value >> shift
    let remainder = value & ((1 << shift) - 1)
    let half: UInt32 = 1 << (shift - 1)
    if remainder > half || (remainder == half && kept & 1 == 1) { return kept + 1 }
    return kept
}
