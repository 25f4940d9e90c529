import ReverieCore
import ReverieTestSupport
import XCTest

final class MatmulTests: XCTestCase {
    /// Naive reference: C[b][i][j] = Σ_k A[b][i][k] B[b][k][j] with explicit transposes.
    func reference(_ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool) -> [Float] {
        let av = a.toArray(), bv = b.toArray()
        let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = ta ? (ac, ar) : (ar, ac)
        let n = tb ? br : bc
        let batch = a.count / (ar * ac)
        var out = [Float](repeating: 0, count: batch * m * n)
        for bi in 0..<batch {
            let bOff = b.rank == 2 ? 0 : bi * br * bc
            for i in 0..<m {
                for j in 0..<n {
                    var s: Float = 0
                    for kk in 0..<k {
                        let x = ta ? av[bi * ar * ac + kk * ac + i] : av[bi * ar * ac + i * ac + kk]
                        let y = tb ? bv[bOff + j * bc + kk] : bv[bOff + kk * bc + j]
                        s += x * y
                    }
                    out[(bi * m + i) * n + j] = s
                }
            }
        }
        return out
    }

    func testAllTransposeCombinationsSharedAndBatched() throws {
        for ta in [false, true] {
            for tb in [false, true] {
                let a = randomInput(ta ? [2, 3, 4, 5] : [2, 3, 5, 4], seed: 1)  // m = 5, k = 4
                let bShared = randomInput(tb ? [6, 4] : [4, 6], seed: 2)
                let bBatched = randomInput(tb ? [2, 3, 6, 4] : [2, 3, 4, 6], seed: 3)
                for b in [bShared, bBatched] {
                    let c = try matmul(a, b, transposeA: ta, transposeB: tb)
                    XCTAssertEqual(c.shape, [2, 3, 5, 6])
                    assertClose(c.toArray(), reference(a, b, ta, tb), atol: 1e-5)
                    try checkGradients([a, b], atol: 3e-2) { try matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
                }
            }
        }
    }

    func testShapeMismatchNamesShapes() {
        XCTAssertThrowsError(try matmul(Tensor(zeros: [2, 3]), Tensor(zeros: [4, 5]))) { error in
            XCTAssertTrue("\(error)".contains("[2, 3]") && "\(error)".contains("[4, 5]"), "\(error)")
        }
        XCTAssertThrowsError(try matmul(Tensor(zeros: [2, 3, 4]), Tensor(zeros: [3, 4, 5])))
        XCTAssertThrowsError(try matmul(Tensor(zeros: [3]), Tensor(zeros: [3, 5])))
    }
}

final class LinearOpTests: XCTestCase {
    func testLinearMatchesMatmulPlusBiasWithGradients() throws {
        let x = randomInput([2, 3, 5], seed: 31), w = randomInput([4, 5], seed: 32), b = randomInput([4], seed: 33)
        let fused = try linear(x, weight: w, bias: b)
        let composed = try matmul(x, w, transposeB: true) + b
        XCTAssertEqual(fused.shape, [2, 3, 4])
        assertClose(fused, composed, atol: 1e-5)
        try checkGradients([x, w, b]) { try linear($0[0], weight: $0[1], bias: $0[2]) }
        try checkGradients([x, w]) { try linear($0[0], weight: $0[1], bias: nil) }
        XCTAssertThrowsError(try linear(x, weight: Tensor(zeros: [4, 6]), bias: nil)) { error in
            XCTAssertTrue("\(error)".contains("[2, 3, 5]") && "\(error)".contains("[4, 6]"), "\(error)")
        }
        XCTAssertThrowsError(try linear(x, weight: w, bias: Tensor(zeros: [5])))
    }
}
