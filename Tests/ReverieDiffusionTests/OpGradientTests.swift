import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieDiffusion

/// Values and finite-difference gradients of the ops this target defines, and of composite blocks end to end.
final class OpGradientTests: XCTestCase {
    func testClampedValuesAndGradient() throws {
        let x = try Tensor(shape: [5], data: [-2, -0.5, 0, 0.7, 3], requiresGrad: true)
        XCTAssertEqual(try x.clamped(-1, 1).toArray(), [-1, -0.5, 0, 0.7, 1])
        try x.clamped(-1, 1).sum().backward()
        XCTAssertEqual(x.grad?.toArray(), [0, 1, 1, 1, 0])
        // Away from the kinks the gradient matches finite differences.
        let y = try Tensor(shape: [4], data: [-1.7, -0.3, 0.4, 1.6])
        try checkGradients([y]) { try $0[0].clamped(-1, 1) }
        XCTAssertThrowsError(try y.clamped(1, -1))
    }

    func testDividedByIsATrueDivision() throws {
        let x = randomInput([3, 4], seed: 2)
        XCTAssertEqual(x.divided(by: 3).toArray(), x.toArray().map { $0 / 3 })
        try checkGradients([x]) { $0[0].divided(by: 3) }
    }

    func testPadRightBottom() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4], requiresGrad: true)
        let p = try padRightBottom(x)
        XCTAssertEqual(p.shape, [1, 1, 3, 3])
        XCTAssertEqual(p.toArray(), [1, 2, 0, 3, 4, 0, 0, 0, 0])
        try checkGradients([randomInput([2, 2, 3, 2], seed: 3)]) { try padRightBottom($0[0]) }
    }

    /// A cross-attention transformer block and a resnet with time embedding: gradients for input, conditions and
    /// time embedding against finite differences.
    func testCompositeBlockGradients() throws {
        var rng = RNG(seed: 8)
        let xf = try Transformer2DModel(channels: 4, heads: 2, crossAttentionDim: 3, groups: 2, rng: &rng)
        try checkGradients(
            [randomInput([1, 4, 2, 2], seed: 4), randomInput([1, 2, 3], seed: 5)],
            atol: 3e-2, rtol: 3e-2
        ) { try xf($0[0], context: $0[1]) }
        let res = try ResnetBlock2D(inChannels: 4, outChannels: 6, tembChannels: 5, groups: 2, eps: 1e-5, rng: &rng)
        try checkGradients(
            [randomInput([1, 4, 3, 3], seed: 6), randomInput([1, 5], seed: 7)],
            atol: 3e-2, rtol: 3e-2
        ) { try res($0[0], temb: $0[1]) }
    }
}
