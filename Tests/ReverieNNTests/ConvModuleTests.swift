import Foundation
import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

final class ConvModuleTests: XCTestCase {
    func testConv2dKeysInitAndDirectLoopValues() throws {
        var rng = RNG(seed: 71)
        let conv = try Conv2d(inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        XCTAssertEqual(conv.namedParameters().map(\.0), ["weight", "bias"])
        XCTAssertEqual(conv.weight.shape, [3, 2, 3, 3])
        let bound = 1 / Float(18).squareRoot()
        XCTAssertTrue((conv.weight.toArray() + conv.bias!.toArray()).allSatisfy { abs($0) <= bound })
        let x = randomInput([2, 2, 5, 4], seed: 1)
        let y = try conv(x)
        XCTAssertEqual(y.shape, [2, 3, 3, 2])
        // y[b, o, i, j] = bias[o] + Σ w[o, c, di, dj] · x[b, c, 2i + di − 1, 2j + dj − 1] (zero outside).
        var expected: [Float] = []
        for b in 0..<2 {
            for o in 0..<3 {
                for i in 0..<3 {
                    for j in 0..<2 {
                        var s = Double(conv.bias![o])
                        for c in 0..<2 {
                            for di in 0..<3 {
                                for dj in 0..<3 {
                                    let (r, q) = (2 * i + di - 1, 2 * j + dj - 1)
                                    if r >= 0, r < 5, q >= 0, q < 4 {
                                        s += Double(conv.weight[o, c, di, dj]) * Double(x[b, c, r, q])
                                    }
                                }
                            }
                        }
                        expected.append(Float(s))
                    }
                }
            }
        }
        assertClose(y.toArray(), expected, atol: 1e-5)
        XCTAssertThrowsError(try conv(randomInput([1, 3, 5, 5], seed: 2)))
        try checkGradients([randomInput([1, 2, 4, 4], seed: 3)]) { try conv($0[0]) }
    }

    func testGroupNormMatchesPerGroupStatistics() throws {
        let gn = try GroupNorm(groups: 2, channels: 4, eps: 1e-5)
        XCTAssertEqual(gn.namedParameters().map(\.0), ["weight", "bias"])
        for i in 0..<4 {
            gn.weight!.pointer[i] = Float(i + 1)
            gn.bias!.pointer[i] = 0.5
        }
        let x = randomInput([2, 4, 3, 3], seed: 4)
        let y = try gn(x)
        for b in 0..<2 {
            for g in 0..<2 {
                let lo = (b * 4 + 2 * g) * 9, vals = Array(x.toArray()[lo..<(lo + 18)]).map(Double.init)
                let mean = vals.reduce(0, +) / 18
                let variance = vals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 18
                let expected = vals.enumerated().map { k, v in
                    Float((v - mean) / (variance + 1e-5).squareRoot() * Double(2 * g + k / 9 + 1) + 0.5)
                }
                assertClose(Array(y.toArray()[lo..<(lo + 18)]), expected, atol: 1e-5)
            }
        }
        XCTAssertThrowsError(try GroupNorm(groups: 3, channels: 4))
        XCTAssertThrowsError(try gn(randomInput([1, 3, 2, 2], seed: 5)))
    }
}
