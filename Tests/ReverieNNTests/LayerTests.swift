import Foundation
import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

final class LayerTests: XCTestCase {
    func testLinearMatchesExplicitProductAndPyTorchInitBounds() throws {
        var rng = RNG(seed: 11)
        let layer = try Linear(inFeatures: 16, outFeatures: 5, rng: &rng)
        XCTAssertEqual(layer.weight.shape, [5, 16])
        XCTAssertEqual(layer.bias?.shape, [5])
        XCTAssertTrue(layer.weight.requiresGrad)
        let bound: Float = 0.25  // 1/√16
        XCTAssertTrue((layer.weight.toArray() + layer.bias!.toArray()).allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(layer.weight.toArray().map(abs).max()!, 0.2, "fills the whole range")
        let x = randomInput([2, 3, 16], seed: 1)
        let y = try layer(x)
        XCTAssertEqual(y.shape, [2, 3, 5])
        // y[b, t, o] = Σᵢ x[b, t, i] W[o, i] + bias[o], in Double.
        var expected: [Float] = []
        for b in 0..<2 {
            for t in 0..<3 {
                for o in 0..<5 {
                    var s = Double(layer.bias![o])
                    for i in 0..<16 { s += Double(x[b, t, i]) * Double(layer.weight[o, i]) }
                    expected.append(Float(s))
                }
            }
        }
        assertClose(y.toArray(), expected, atol: 1e-5)
        // A single vector works too.
        let v = try layer(try x.reshape([6, 16]).slice(axis: 0, start: 4, end: 5).reshape([16]))
        assertClose(v.toArray(), Array(expected[20..<25]), atol: 1e-5)
        XCTAssertThrowsError(try layer(Tensor(zeros: [2, 15])))
    }

    func testLinearGradientsAndNoBias() throws {
        var rng = RNG(seed: 12)
        let layer = try Linear(inFeatures: 3, outFeatures: 2, bias: false, rng: &rng)
        XCTAssertNil(layer.bias)
        XCTAssertEqual(layer.namedParameters().map(\.0), ["weight"])
        try checkGradients([randomInput([2, 3], seed: 2), layer.weight]) { try matmul($0[0], $0[1], transposeB: true) }
        try checkGradients([randomInput([4, 3], seed: 3)]) { try layer($0[0]) }
    }

    func testFrozenLayerStillPassesGradientToItsInput() throws {
        var rng = RNG(seed: 13)
        let first = try Linear(inFeatures: 3, outFeatures: 4, rng: &rng)
        let frozen = try Linear(inFeatures: 4, outFeatures: 2, rng: &rng)
        try frozen.freeze()
        let x = randomInput([5, 3], seed: 4)
        try frozen(first(x)).square().sum().backward()
        XCTAssertNil(frozen.weight.grad)
        XCTAssertNil(frozen.bias?.grad)
        XCTAssertNotNil(first.weight.grad, "gradient flows through the frozen layer")
        XCTAssertNotNil(x.grad)
        // And the gradient is the right one: a frozen weight is a constant.
        try checkGradients([randomInput([5, 4], seed: 5)]) { try frozen($0[0]) }
    }

    func testMLPAndSwiGLUMatchCompositionsOfCoreOps() throws {
        var rng = RNG(seed: 14)
        let x = randomInput([2, 3, 4], seed: 6)
        for act in Activation.allCases {
            let mlp = try MLP(dim: 4, hidden: 7, activation: act, rng: &rng)
            let h = try matmul(x, mlp.fc1.weight, transposeB: true) + mlp.fc1.bias!
            let a: Tensor
            switch act {
            case .gelu: a = h.gelu()
            case .geluTanh: a = h.geluTanh()
            case .silu: a = h.silu()
            case .relu: a = h.relu()
            case .quickGelu: a = try h * (h * 1.702).sigmoid()
            case .mish: a = try h * h.softplus().tanh()
            }
            let expected = try matmul(a, mlp.fc2.weight, transposeB: true) + mlp.fc2.bias!
            assertClose(try mlp(x), expected, atol: 1e-6, "\(act)")
        }
        let glu = try SwiGLU(dim: 4, hidden: 6, rng: &rng)
        XCTAssertEqual(glu.namedParameters().map(\.0), ["gate_proj.weight", "up_proj.weight", "down_proj.weight"])
        let gate = try matmul(x, glu.gateProj.weight, transposeB: true).silu()
        let up = try matmul(x, glu.upProj.weight, transposeB: true)
        assertClose(try glu(x), try matmul(gate * up, glu.downProj.weight, transposeB: true), atol: 1e-6)
        try checkGradients([randomInput([2, 4], seed: 7)]) { try glu($0[0]) }
        XCTAssertEqual(Activation(huggingFaceName: "gelu_new"), .geluTanh)
        XCTAssertEqual(Activation(huggingFaceName: "gelu_pytorch_tanh"), .geluTanh)
        XCTAssertNil(Activation(huggingFaceName: "softsign"))
    }

    func testNormsAndEmbedding() throws {
        let x = randomInput([3, 5], seed: 8)
        let ln = try LayerNorm(dim: 5, eps: 1e-5)
        try ln.weight!.mutableBuffer.setValues([1, 2, 3, 4, 5])
        ln.bias!.mutableBuffer.update(repeating: 0.5)
        for r in 0..<3 {
            let row = (0..<5).map { Double(x[r, $0]) }
            let mean = row.reduce(0, +) / 5
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5
            let expected = row.enumerated().map {
                Float(($1 - mean) / (variance + 1e-5).squareRoot() * Double($0 + 1) + 0.5)
            }
            assertClose(Array(try ln(x).toArray()[(r * 5)..<(r * 5 + 5)]), expected, atol: 1e-5)
        }
        XCTAssertEqual(try LayerNorm(dim: 5, affine: false).namedParameters().count, 0)
        let rms = try RMSNorm(dim: 5, eps: 1e-6)
        XCTAssertEqual(rms.weight.toArray(), [1, 1, 1, 1, 1])
        assertClose(try rms(x), try rmsNorm(x, weight: nil, eps: 1e-6), atol: 0)
        var rng = RNG(seed: 15)
        let emb = try Embedding(count: 6, dim: 3, rng: &rng)
        let e = try emb([5, 0, 5, 2], shape: [2, 2])
        XCTAssertEqual(e.shape, [2, 2, 3])
        XCTAssertEqual(Array(e.toArray()[0..<3]), Array(emb.weight.toArray()[15..<18]))
        XCTAssertThrowsError(try emb([6]))
    }
}

extension UnsafeMutableBufferPointer where Element == Float {
    /// Overwrites the elements with `values` (test helper; counts must match).
    func setValues(_ values: [Float]) throws {
        guard values.count == count else { throw TensorError.invalidArgument(op: "test", detail: "count") }
        for (i, v) in values.enumerated() { self[i] = v }
    }
}
