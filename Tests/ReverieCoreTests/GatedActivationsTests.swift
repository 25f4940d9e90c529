import ReverieTestSupport
import XCTest

@testable import ReverieCore

final class GatedActivationsTests: XCTestCase {
    /// The fused gate against the path it replaces (split, GELU, product): the same bits forward and backward.
    func testMatchesSplitGELUProductBitForBit() throws {
        // Halves of 1, 5, 8, 13 and 640 floats: vector tails, a single lane, and rows above the parallel grain.
        for (n, shape) in [[3, 2], [2, 4, 10], [7, 16], [5, 26], [2, 40, 1280]].enumerated() {
            let half = shape.last! / 2
            let x = randomInput(shape, seed: UInt64(10 + n), scale: 3)
            let g = randomInput(Array(shape.dropLast()) + [half], seed: UInt64(20 + n))

            let fusedIn = x.detached()
            fusedIn.requiresGrad = true
            let fused = try fusedIn.gatedGELU()
            try fused.backward(seed: g)

            let plainIn = x.detached()
            plainIn.requiresGrad = true
            let parts = try plainIn.split([half, half], axis: shape.count - 1)
            let plain = try parts[0] * parts[1].gelu()
            try plain.backward(seed: g)

            XCTAssertEqual(fused.shape, plain.shape, "case \(n)")
            XCTAssertEqual(fused.toArray(), plain.toArray(), "case \(n) values")
            // +0 and −0 compare equal here: the unfused gradient adds a zero from the other half's slice.
            XCTAssertEqual(fusedIn.grad?.toArray(), plainIn.grad?.toArray(), "case \(n) gradient")
        }
    }

    func testGradientMatchesFiniteDifferences() throws {
        let x = randomInput([2, 6], seed: 3, scale: 2)
        x.requiresGrad = true
        let g = randomInput([2, 3], seed: 4)
        try x.gatedGELU().backward(seed: g)
        let analytic = try XCTUnwrap(x.grad?.toArray())
        let values = x.toArray()
        let eps: Float = 1e-2
        for i in values.indices {
            func loss(_ shift: Float) throws -> Float {
                var v = values
                v[i] += shift
                let y = try Tensor(shape: [2, 6], data: v).gatedGELU().toArray()
                return zip(y, g.toArray()).map(*).reduce(0, +)
            }
            let numeric = (try loss(eps) - loss(-eps)) / (2 * eps)
            XCTAssertEqual(analytic[i], numeric, accuracy: 2e-3 * Swift.max(1, abs(numeric)), "element \(i)")
        }
    }

    /// Llama's `silu(gate) ⊙ up` fused against SiLU and the product: the same bits forward and backward.
    func testGatedSiLUMatchesSiLUProductBitForBit() throws {
        for (n, shape) in [[3], [2, 4, 9], [7, 16], [4, 128, 700]].enumerated() {
            let gate = randomInput(shape, seed: UInt64(50 + n), scale: 4), up = randomInput(shape, seed: UInt64(60 + n))
            let g = randomInput(shape, seed: UInt64(70 + n))
            func run(_ fused: Bool) throws -> (y: [Float], dGate: [Float]?, dUp: [Float]?) {
                let (a, b) = (gate.detached(), up.detached())
                a.requiresGrad = true
                b.requiresGrad = true
                let y = fused ? try gatedSiLU(gate: a, up: b) : try a.silu() * b
                try y.backward(seed: g)
                return (y.toArray(), a.grad?.toArray(), b.grad?.toArray())
            }
            let (fused, plain) = (try run(true), try run(false))
            XCTAssertEqual(fused.y, plain.y, "case \(n) values")
            XCTAssertEqual(fused.dGate, plain.dGate, "case \(n) gate gradient")
            XCTAssertEqual(fused.dUp, plain.dUp, "case \(n) up gradient")
        }
        // Only the operand that wants a gradient gets one.
        let gate = randomInput([5], seed: 1).detached(), up = randomInput([5], seed: 2)
        try gatedSiLU(gate: gate, up: up).backward(seed: Tensor(repeating: 1, shape: [5]))
        XCTAssertNil(gate.grad)
        XCTAssertEqual(up.grad?.toArray(), gate.silu().toArray())
        XCTAssertThrowsError(try gatedSiLU(gate: Tensor(zeros: [2, 3]), up: Tensor(zeros: [3, 2]))) { error in
            XCTAssertTrue("\(error)".contains("gatedSiLU"), "\(error)")
        }
    }

    func testAnOddLastAxisIsRefusedByName() {
        XCTAssertThrowsError(try Tensor(zeros: [2, 5]).gatedGELU()) { error in
            XCTAssertTrue("\(error)".contains("gatedGELU"), "\(error)")
            XCTAssertTrue("\(error)".contains("[2, 5]"), "\(error)")
        }
    }
}
