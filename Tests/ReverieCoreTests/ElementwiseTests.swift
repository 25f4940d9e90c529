import Foundation
import ReverieCore
import ReverieTestSupport
import XCTest

final class ElementwiseTests: XCTestCase {
    static func referenceGELU(_ x: Float) -> Float {
        let cdf: Float = 0.5 * (1 + Foundation.erf(x / Float(2).squareRoot()))
        return x * cdf
    }

    static func referenceGELUTanh(_ x: Float) -> Float {
        let c: Float = (2 / Float.pi).squareRoot()
        let inner: Float = c * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1 + Foundation.tanh(inner))
    }

    func testUnaryValuesMatchLibm() throws {
        let xs: [Float] = (0..<37).map { Float($0) * 0.25 - 4.5 }
        let x = try Tensor(shape: [37], data: xs)
        assertClose(x.exp().toArray(), xs.map { Foundation.exp($0) }, atol: 1e-6, rtol: 2e-6)
        assertClose(x.tanh().toArray(), xs.map { Foundation.tanh($0) }, atol: 2e-7)
        assertClose(x.sigmoid().toArray(), xs.map { 1 / (1 + Foundation.exp(-$0)) }, atol: 2e-7)
        assertClose(x.relu().toArray(), xs.map { Swift.max($0, 0) }, atol: 0)
        assertClose(x.silu().toArray(), xs.map { $0 / (1 + Foundation.exp(-$0)) }, atol: 1e-6)
        assertClose(x.gelu().toArray(), xs.map(Self.referenceGELU), atol: 1e-6)
        assertClose(x.geluTanh().toArray(), xs.map(Self.referenceGELUTanh), atol: 1e-6)
        let pos = try Tensor(shape: [5], data: [0.5, 1, 2, 4, 9])
        assertClose(pos.sqrt().toArray(), [0.70710678, 1, 1.4142135, 2, 3])
        assertClose(pos.rsqrt().toArray(), [1.4142135, 1, 0.70710678, 0.5, 0.33333334])
        assertClose(pos.log().toArray(), [-0.6931472, 0, 0.6931472, 1.3862944, 2.1972246])
        assertClose(pos.pow(1.5).toArray(), [0.35355339, 1, 2.8284271, 8, 27])
        assertClose((-pos).toArray(), [-0.5, -1, -2, -4, -9], atol: 0)
        assertClose((2 / pos).toArray(), [4, 2, 1, 0.5, 0.22222222])
    }

    func testExpExtremesDoNotOverflowToNaN() throws {
        let x = try Tensor(shape: [4], data: [-200, -88, 88, 200])
        let y = x.exp().toArray()
        XCTAssertEqual(y[0], 0)
        XCTAssertFalse(y.contains { $0.isNaN })
        XCTAssertTrue(y[3] > 1e38)
    }

    func testUnaryGradients() throws {
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("neg", { -$0 }), ("exp", { $0.exp() }), ("tanh", { $0.tanh() }), ("sigmoid", { $0.sigmoid() }),
            ("gelu", { $0.gelu() }), ("geluTanh", { $0.geluTanh() }), ("silu", { $0.silu() }),
            ("square", { $0.square() }), ("scalarAffine", { 3 - 2 * $0 + 1 }), ("clampMin", { $0.clampMin(-0.3) }),
        ]
        for (name, op) in ops {
            try checkGradients([randomInput([3, 5], seed: 1)], file: #filePath, line: #line) { op($0[0]) }
            _ = name
        }
        // Positive-domain ops.
        let pos = try Tensor(shape: [6], data: [0.5, 0.8, 1.3, 2, 3.1, 4], requiresGrad: true)
        for op in [{ (t: Tensor) in t.log() }, { $0.sqrt() }, { $0.rsqrt() }, { $0.pow(2.5) }, { 1.5 / $0 }] {
            try checkGradients([pos]) { op($0[0]) }
        }
        // relu and abs away from the kink.
        let off = try Tensor(shape: [4], data: [-1.5, -0.4, 0.3, 2], requiresGrad: true)
        try checkGradients([off]) { $0[0].relu() }
        try checkGradients([off]) { $0[0].abs() }
    }

    func testBroadcastArithmeticValuesAndGradients() throws {
        let a = try Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3], data: [10, 20, 30])
        let c = try Tensor(shape: [2, 1], data: [2, 4])
        assertClose(try (a + b).toArray(), [11, 22, 33, 14, 25, 36], atol: 0)
        assertClose(try (a - c).toArray(), [-1, 0, 1, 0, 1, 2], atol: 0)
        assertClose(try (c * b).toArray(), [20, 40, 60, 40, 80, 120], atol: 0)
        assertClose(try (a / c).toArray(), [0.5, 1, 1.5, 1, 1.25, 1.5], atol: 0)
        XCTAssertEqual(try (c * b).shape, [2, 3])
        for op in [{ (x: Tensor, y: Tensor) in try x + y }, { try $0 - $1 }, { try $0 * $1 }] {
            try checkGradients([randomInput([2, 3, 4], seed: 2), randomInput([3, 1], seed: 3)]) { try op($0[0], $0[1]) }
            try checkGradients([randomInput([4], seed: 4), randomInput([2, 3, 4], seed: 5)]) { try op($0[0], $0[1]) }
        }
        let den = try Tensor(shape: [1, 3], data: [1.5, -2, 2.5], requiresGrad: true)
        try checkGradients([randomInput([2, 3], seed: 6), den]) { try $0[0] / $0[1] }
    }

    func testBroadcastMismatchThrowsNamingShapes() {
        let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [4])
        XCTAssertThrowsError(try a + b) { error in
            XCTAssertTrue("\(error)".contains("[2, 3]") && "\(error)".contains("[4]"), "\(error)")
        }
    }

    func testGradientsAccumulateAcrossCallsAndNoGradRecordsNothing() throws {
        let x = try Tensor(shape: [3], data: [1, 2, 3], requiresGrad: true)
        try (x * 2).sum().backward()
        try (x * 3).sum().backward()
        assertClose(x.grad!.toArray(), [5, 5, 5], atol: 0)
        let y = withNoGrad { x * 2 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertThrowsError(try y.sum().backward())
    }

    func testFrozenOperandPassesGradientThrough() throws {
        // A frozen "parameter" (requiresGrad = false) gets no gradient, but the input behind it still does.
        let frozen = try Tensor(shape: [3], data: [2, 3, 4])
        let x = try Tensor(shape: [3], data: [1, 1, 1], requiresGrad: true)
        try ((x * frozen).exp()).sum().backward()
        XCTAssertNil(frozen.grad)
        let expected: [Float] = [2, 3, 4].map { (k: Float) -> Float in k * Foundation.exp(k) }
        assertClose(x.grad!.toArray(), expected, rtol: 1e-5)
    }

    func testSharedSubexpressionAccumulates() throws {
        let x = try Tensor(shape: [2], data: [1.5, -2], requiresGrad: true)
        let y = x.square()
        try (try y * y + y).sum().backward()  // d/dx (x^4 + x^2) = 4x^3 + 2x
        assertClose(x.grad!.toArray(), [4 * 3.375 + 3, 4 * -8 - 4], rtol: 1e-6)
    }
}
