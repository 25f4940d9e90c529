// Widening of the 16-bit float formats of safetensors files to Float32, by bit manipulation so it behaves the same
// on every platform (Swift's `Float16` is unavailable on Intel macOS). Widening is exact.

/// Converts little-endian `bytes` of `dtype` into `out` (which holds exactly bytes.count / dtype.size elements).
func widenToFloat32(
    _ bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType, into out: UnsafeMutableBufferPointer<Float>
) {
    let n = out.count
    switch dtype {
    case .f32:
        for i in 0..<n {
            let w = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
            out[i] = Float(bitPattern: w)
        }
    case .bf16:
        for i in 0..<n {
            let h = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            out[i] = Float(bitPattern: UInt32(h) << 16)
        }
    case .f16:
        for i in 0..<n {
            let h = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            out[i] = float32(fromFloat16Bits: h)
        }
    }
}

/// The Float32 equal to the IEEE 754 binary16 value with bit pattern `h` (subnormals, infinities and NaN included).
func float32(fromFloat16Bits h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    switch exponent {
    case 0:
        // Zero or subnormal: mantissa · 2^-24, exact in Float32.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    case 0x1F:
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    default:
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}
