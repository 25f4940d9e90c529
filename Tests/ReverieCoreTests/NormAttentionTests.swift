import Foundation
import ReverieCore
import ReverieTestSupport
import XCTest

final class NormAttentionTests: XCTestCase {
    func testLayerNormValuesAndGradients() throws {
        let x = try Tensor(shape: [2, 4], data: [1, 2, 3, 4, -1, 0, 1, 6])
        let w = try Tensor(shape: [4], data: [1, 2, 1, 0.5]), b = try Tensor(shape: [4], data: [0, 0, 1, -1])
        let y = try layerNorm(x, weight: w, bias: b, eps: 0).toArray()
        let s1: Float = 1 / (1.25 as Float).squareRoot()  // row 1: mean 2.5, biased var 1.25
        assertClose(Array(y[0..<4]), [-1.5 * s1, -0.5 * s1 * 2, 0.5 * s1 + 1, 1.5 * s1 * 0.5 - 1], atol: 1e-5)
        try checkGradients([randomInput([3, 5], seed: 1), randomInput([5], seed: 2), randomInput([5], seed: 3)]) {
            try layerNorm($0[0], weight: $0[1], bias: $0[2])
        }
        try checkGradients([randomInput([2, 2, 6], seed: 4)]) { try layerNorm($0[0], weight: nil, bias: nil) }
        XCTAssertThrowsError(try layerNorm(x, weight: Tensor(zeros: [3]), bias: nil))
    }

    func testRMSNormValuesAndGradients() throws {
        let x = try Tensor(shape: [1, 2], data: [3, 4])  // mean square 12.5
        let y = try rmsNorm(x, weight: Tensor(shape: [2], data: [1, 2]), eps: 0).toArray()
        assertClose(y, [3 / Float(12.5).squareRoot(), 8 / Float(12.5).squareRoot()], atol: 1e-6)
        try checkGradients([randomInput([3, 6], seed: 5), randomInput([6], seed: 6)]) {
            try rmsNorm($0[0], weight: $0[1], eps: 1e-6)
        }
    }

    /// Attention composed from independent ops (matmul, masked fill, softmax), with k/v heads repeated for GQA.
    func referenceAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool, padding: Tensor?) throws -> Tensor {
        let (b, h, tq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (hkv, tk) = (k.shape[1], k.shape[2])
        let repeatIdx = (0..<h).map { $0 / (h / hkv) }
        let kr = try k.indexSelect(axis: 1, repeatIdx), vr = try v.indexSelect(axis: 1, repeatIdx)
        var scores = try matmul(q, kr, transposeB: true) * (1 / Float(d).squareRoot())
        var maskValues = [Float](repeating: 0, count: b * tq * tk)
        for bi in 0..<b {
            for i in 0..<tq {
                for j in 0..<tk {
                    let hidden = (causal && j > i + tk - tq) || (padding.map { $0[bi, j] == 0 } ?? false)
                    maskValues[(bi * tq + i) * tk + j] = hidden ? 1 : 0
                }
            }
        }
        scores = try scores.maskedFill(try Tensor(shape: [b, 1, tq, tk], data: maskValues), -.infinity)
        return try matmul(try scores.softmax(axis: -1), vr)
    }

    func testAttentionMatchesCompositionWithMasksAndGQA() throws {
        let padding = try Tensor(shape: [2, 5], data: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
        for (h, hkv) in [(4, 4), (4, 2), (4, 1)] {
            for causal in [false, true] {
                let q = randomInput([2, h, 3, 8], seed: 1), k = randomInput([2, hkv, 5, 8], seed: 2)
                let v = randomInput([2, hkv, 5, 6], seed: 3)
                let fused = try scaledDotProductAttention(q, k, v, causal: causal, keyPaddingMask: padding)
                let ref = try referenceAttention(q, k, v, causal: causal, padding: padding)
                XCTAssertEqual(fused.shape, [2, h, 3, 6])
                assertClose(fused, ref, atol: 1e-5, "h \(h) hkv \(hkv) causal \(causal)")
                // Gradients of the fused op for q, k and v (including GQA accumulation into shared heads).
                try checkGradients([
                    randomInput([1, h, 3, 4], seed: 4), randomInput([1, hkv, 5, 4], seed: 5),
                    randomInput([1, hkv, 5, 3], seed: 6),
                ]) {
                    try scaledDotProductAttention($0[0], $0[1], $0[2], causal: causal)
                }
            }
        }
    }

    func testAdditiveMaskEqualsPaddingMaskAndBroadcasts() throws {
        let q = randomInput([2, 2, 3, 4], seed: 9), k = randomInput([2, 2, 5, 4], seed: 10)
        let v = randomInput([2, 2, 5, 4], seed: 11)
        let padding = try Tensor(shape: [2, 5], data: [1, 1, 1, 0, 1, 1, 1, 1, 1, 0])
        var additive = [Float](repeating: 0, count: 2 * 3 * 5)
        for bi in 0..<2 {
            for i in 0..<3 { for j in 0..<5 where padding[bi, j] == 0 { additive[(bi * 3 + i) * 5 + j] = -.infinity } }
        }
        let viaPadding = try scaledDotProductAttention(q, k, v, keyPaddingMask: padding)
        let viaAdditive = try scaledDotProductAttention(
            q, k, v, additiveMask: try Tensor(shape: [2, 1, 3, 5], data: additive))
        assertClose(viaAdditive, viaPadding, atol: 0)
        // A finite bias shifts the scores: compare with the composition softmax(QKᵀ/√d + bias)·V.
        let bias = randomInput([1, 2, 3, 5], seed: 12)
        let fused = try scaledDotProductAttention(q, k, v, additiveMask: bias)
        let ref = try matmul(try (matmul(q, k, transposeB: true) * 0.5 + bias).softmax(axis: -1), v)
        assertClose(fused, ref, atol: 1e-5)
        try checkGradients([
            randomInput([1, 2, 3, 4], seed: 13), randomInput([1, 2, 5, 4], seed: 14),
            randomInput([1, 2, 5, 4], seed: 15),
        ]) {
            try scaledDotProductAttention($0[0], $0[1], $0[2], additiveMask: bias)
        }
        XCTAssertThrowsError(try scaledDotProductAttention(q, k, v, additiveMask: Tensor(zeros: [2, 3, 3, 5])))
    }

    func testCausalAttentionIgnoresTheFuture() throws {
        let x = randomInput([1, 2, 6, 4], seed: 7)
        let y1 = try scaledDotProductAttention(x, x, x, causal: true)
        x.pointer[x.count - 1] += 5  // change the last time step only
        let y2 = try scaledDotProductAttention(x, x, x, causal: true)
        for head in 0..<2 {
            for t in 0..<5 { for j in 0..<4 { XCTAssertEqual(y1[0, head, t, j], y2[0, head, t, j]) } }
        }
        XCTAssertThrowsError(
            try scaledDotProductAttention(x, Tensor(zeros: [1, 3, 6, 4]), Tensor(zeros: [1, 3, 6, 4])))
    }

    func testRotaryEmbeddingRotatesPairsAndInverts() throws {
        let rope = try RotaryEmbedding(dim: 4, theta: 100)
        let x = try Tensor(shape: [1, 1, 2, 4], data: [1, 2, 3, 4, 1, 2, 3, 4])
        let y = try rope(x, positions: [0, 3])
        // Position 0 is the identity; position 3 rotates pair (j, j + 2) by 3·100^(-j/2).
        assertClose(Array(y.toArray()[0..<4]), [1, 2, 3, 4], atol: 1e-6)
        let a0: Float = 3, a1: Float = 3 / 10
        let expected: [Float] = [
            1 * cos(a0) - 3 * sin(a0), 2 * cos(a1) - 4 * sin(a1),
            3 * cos(a0) + 1 * sin(a0), 4 * cos(a1) + 2 * sin(a1),
        ]
        assertClose(Array(y.toArray()[4..<8]), expected, atol: 1e-5)
        try checkGradients([randomInput([2, 2, 3, 6], seed: 8)]) {
            try RotaryEmbedding(dim: 6)($0[0], positions: [4, 5, 6])
        }
        // Rotation preserves norms.
        let n0 = try x.square().sum().item(), n1 = try y.square().sum().item()
        XCTAssertEqual(n0, n1, accuracy: 1e-4)
        XCTAssertThrowsError(try RotaryEmbedding(dim: 5))
        // Cached tables give the same rotation as computed ones, including positions past the cache.
        let cached = try RotaryEmbedding(dim: 4, theta: 100, cachedPositions: 2)
        assertClose(try cached(x, positions: [0, 3]), y, atol: 0)
        assertClose(try cached(x, positions: [1, 0]), try rope(x, positions: [1, 0]), atol: 0)
    }
}
