import XCTest

@testable import ReverieIO

/// The Swift narrowing used for float16 / bfloat16 storage must round exactly like IEEE 754 (ties to even).
final class HalfPrecisionTests: XCTestCase {
    func testFloat16MatchesSwiftFloat16() {
        var edgeCases: [Float] = [
            0, -0.0, 1, -1, 0.1, 65504, 65519.996, 65520, 1e6, -1e6,
            0x1p-14, 0x1.ffcp-15, 0x1p-24, 0x1p-25, 0x1.000002p-25, 0x1.8p-24, 0x1p-26, 1e-30,
            1 + 0x1p-11, 1 + 0x1.02p-11, 1 + 0x1p-10 + 0x1p-11,  // ties to even, both directions
            .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ]
        edgeCases += edgeCases.map { -$0 }
        var generator = SystemRandomNumberGenerator()
        let random = (0..<200_000).map { _ in Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator)) }
        for value in edgeCases + random where !value.isNaN {
            XCTAssertEqual(float16Bits(value), Float16(value).bitPattern, "\(value) (\(value.bitPattern))")
        }
    }

    func testNaNStaysNaN() {
        for bits: UInt32 in [0x7FC0_0000, 0x7F80_0001, 0xFFC0_0000, 0x7FA0_0000] {
            let value = Float(bitPattern: bits)
            XCTAssertTrue(Float16(bitPattern: float16Bits(value)).isNaN)
            XCTAssertTrue(Float(bitPattern: UInt32(bfloat16Bits(value)) << 16).isNaN)
        }
    }

    func testBFloat16RoundsToNearestEven() {
        func widen(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }
        XCTAssertEqual(widen(bfloat16Bits(1)), 1)
        XCTAssertEqual(widen(bfloat16Bits(1 + 0x1p-8)), 1, "tie rounds to even (down)")
        XCTAssertEqual(widen(bfloat16Bits(1 + 0x1p-7 + 0x1p-8)), 1 + 0x1p-6, "tie rounds to even (up)")
        XCTAssertEqual(widen(bfloat16Bits(1 + 0x1.02p-8)), 1 + 0x1p-7, "above the tie rounds up")
        XCTAssertEqual(widen(bfloat16Bits(.greatestFiniteMagnitude)), .infinity)
        XCTAssertEqual(widen(bfloat16Bits(-.infinity)), -.infinity)
        XCTAssertEqual(widen(bfloat16Bits(-3.140625)), -3.140625, "representable values are exact")
    }
}
