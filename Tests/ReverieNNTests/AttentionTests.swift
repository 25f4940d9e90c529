import Foundation
import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

final class AttentionTests: XCTestCase {
    /// softmax(Q Kᵀ · scale + mask) V out of matmul, softmax and shape ops, with every projection written out.
    func reference(
        _ m: MultiHeadAttention, _ x: Tensor, context: Tensor? = nil,
        causal: Bool = false
    ) throws -> Tensor {
        precondition(m.kvHeads == m.heads)
        let src = context ?? x
        let (b, t, s, h, dh) = (x.shape[0], x.shape[1], src.shape[1], m.heads, m.headDim)
        func project(_ input: Tensor, _ l: Linear, _ n: Int) throws -> Tensor {
            var y = try matmul(input, l.weight, transposeB: true)
            if let bias = l.bias { y = try y + bias }
            return try y.reshape([b, n, h, dh]).permute([0, 2, 1, 3])
        }
        var q = try project(x, m.qProj, t), k = try project(src, m.kProj, s)
        let v = try project(src, m.vProj, s)
        if let rope = m.rope {
            q = try rope(q, positions: Array(0..<t))
            k = try rope(k, positions: Array(0..<s))
        }
        var scores = try matmul(q, k, transposeB: true) * (1 / Float(dh).squareRoot())  // [B, H, T, S]
        if causal {
            var mask = [Float](repeating: 0, count: t * s)
            for i in 0..<t { for j in 0..<s where j > i + s - t { mask[i * s + j] = 1 } }
            scores = try scores.maskedFill(Tensor(shape: [t, s], data: mask), -.infinity)
        }
        let o = try matmul(scores.softmax(axis: -1), v).permute([0, 2, 1, 3]).reshape([b, t, h * dh])
        var y = try matmul(o, m.oProj.weight, transposeB: true)
        if let bias = m.oProj.bias { y = try y + bias }
        return y
    }

    func testSelfAttentionMatchesCoreOpComposition() throws {
        var rng = RNG(seed: 21)
        let x = randomInput([2, 5, 8], seed: 1)
        for causal in [false, true] {
            let m = try MultiHeadAttention(dim: 8, heads: 2, bias: true, causal: causal, rng: &rng)
            let y = try m(x)
            XCTAssertEqual(y.shape, [2, 5, 8])
            assertClose(y, try reference(m, x, causal: causal), atol: 1e-5, "causal \(causal)")
        }
        let rope = try MultiHeadAttention(dim: 8, heads: 2, causal: true, rope: RotaryEmbedding(dim: 4), rng: &rng)
        assertClose(try rope(x), try reference(rope, x, causal: true), atol: 1e-5, "rope")
    }

    func testGroupedQueryEqualsRepeatedKeyValueHeads() throws {
        var rng = RNG(seed: 22)
        let (heads, kvHeads, dh, dim) = (4, 2, 3, 12)
        let gqa = try MultiHeadAttention(dim: dim, heads: heads, kvHeads: kvHeads, causal: true, rng: &rng)
        let full = try MultiHeadAttention(dim: dim, heads: heads, causal: true, rng: &rng)
        XCTAssertEqual(gqa.kProj.weight.shape, [kvHeads * dh, dim])
        var state = gqa.stateDict()
        for name in ["k_proj.weight", "v_proj.weight"] {
            let w = state[name]!.toArray()
            var repeated: [Float] = []
            for h in 0..<heads {  // query head h reads key/value head h / (heads / kvHeads)
                let g = h / (heads / kvHeads)
                repeated += w[(g * dh * dim)..<((g + 1) * dh * dim)]
            }
            state[name] = try Tensor(shape: [heads * dh, dim], data: repeated)
        }
        try full.loadStateDict(state)
        let x = randomInput([2, 4, dim], seed: 2)
        assertClose(try gqa(x), try full(x), atol: 1e-5)
        assertClose(try full(x), try reference(full, x, causal: true), atol: 1e-5)
    }

    func testCausalOutputIgnoresLaterPositions() throws {
        var rng = RNG(seed: 23)
        let m = try MultiHeadAttention(dim: 6, heads: 3, causal: true, rope: RotaryEmbedding(dim: 2), rng: &rng)
        let x = randomInput([1, 6, 6], seed: 3)
        let base = try m(x).toArray()
        for t in 0..<5 {
            let changed = x.copy()
            for i in ((t + 1) * 6)..<36 { changed.pointer[i] += 3 }
            let y = try m(changed).toArray()
            XCTAssertEqual(Array(y[0..<((t + 1) * 6)]), Array(base[0..<((t + 1) * 6)]), "position ≤ \(t)")
            XCTAssertNotEqual(Array(y[((t + 1) * 6)...]), Array(base[((t + 1) * 6)...]))
        }
    }

    func testCrossAttentionShapesAndPaddingMask() throws {
        var rng = RNG(seed: 24)
        let m = try MultiHeadAttention(dim: 8, heads: 2, contextDim: 6, bias: true, names: .clip, rng: &rng)
        XCTAssertEqual(m.kProj.weight.shape, [8, 6])
        let x = randomInput([2, 3, 8], seed: 4), context = randomInput([2, 5, 6], seed: 5)
        let y = try m(x, context: context)
        XCTAssertEqual(y.shape, [2, 3, 8])
        assertClose(y, try reference(m, x, context: context), atol: 1e-5)
        // Masking the last two keys equals attending to the first three only.
        let mask = try Tensor(shape: [2, 5], data: [1, 1, 1, 0, 0, 1, 1, 1, 0, 0])
        let masked = try m(x, context: context, keyPaddingMask: mask)
        assertClose(masked, try m(x, context: context.slice(axis: 1, start: 0, end: 3)), atol: 1e-6)
        XCTAssertThrowsError(try m(x, context: randomInput([2, 5, 8], seed: 6)))
        XCTAssertThrowsError(try m(x, context: context, cache: KeyValueCache()))
    }

    func testGradientsThroughAttention() throws {
        var rng = RNG(seed: 25)
        let selfAttn = try MultiHeadAttention(
            dim: 4, heads: 2, kvHeads: 1, bias: true, causal: true,
            rope: RotaryEmbedding(dim: 2), rng: &rng)
        try checkGradients([randomInput([1, 3, 4], seed: 7)], eps: 1e-2, atol: 1e-2) { try selfAttn($0[0]) }
        let cross = try MultiHeadAttention(dim: 4, heads: 2, contextDim: 3, rng: &rng)
        try checkGradients([randomInput([2, 2, 4], seed: 8), randomInput([2, 3, 3], seed: 9)], atol: 1e-2) {
            try cross($0[0], context: $0[1])
        }
        // Parameters get gradients too.
        try selfAttn(randomInput([1, 3, 4], seed: 10)).sum().backward()
        XCTAssertTrue(selfAttn.parameters().allSatisfy { $0.grad != nil })
    }

    func testKeyValueCacheMatchesFullSequence() throws {
        var rng = RNG(seed: 26)
        let m = try MultiHeadAttention(
            dim: 8, heads: 4, kvHeads: 2, causal: true, rope: RotaryEmbedding(dim: 2),
            rng: &rng)
        let x = randomInput([2, 6, 8], seed: 11)
        let full = try withNoGrad { try m(x) }
        let cache = KeyValueCache()
        var pieces: [Tensor] = []
        try withNoGrad {
            for (lo, hi) in [(0, 3), (3, 4), (4, 6)] {
                pieces.append(try m(x.slice(axis: 1, start: lo, end: hi), cache: cache))
            }
        }
        XCTAssertEqual(cache.length, 6)
        assertClose(try concat(pieces, axis: 1), full, atol: 1e-5)
        cache.reset()
        XCTAssertEqual(cache.length, 0)
    }
}
