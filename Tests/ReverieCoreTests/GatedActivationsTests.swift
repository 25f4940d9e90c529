import ReverieTestSupport
import XCTest

@testable import ReverieCore

final class GatedGELUTests: XCTestCase {
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

    func testAnOddLastAxisIsRefusedByName() {
        XCTAssertThrowsError(try Tensor(zeros: [2, 5]).gatedGELU()) { error in
            XCTAssertTrue("\(error)".contains("gatedGELU"), "\(error)")
            XCTAssertTrue("\(error)".contains("[2, 5]"), "\(error)")
        }
    }
}
