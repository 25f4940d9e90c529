import ReverieTestSupport
import XCTest

@testable import ReverieCore

/// The parallel row copies behind slice, split and concat, and the tiled transposes of permute, against plain
/// loops, for shapes whose parallel pieces and tiles start and end inside rows, and the ops' gradients.
final class RowCopiesTests: XCTestCase {
    func testCopyAndZeroRowsMatchPlainLoops() {
        // (rows, length, padding around each destination row): one long row, many short rows, rows of odd length.
        for (rows, length, pad) in [(1, 200_001, 3), (3_000, 37, 5), (513, 1_023, 0), (0, 5, 1), (4, 0, 2)] {
            let srcStride = length + 7, dstStride = length + pad
            let src = (0..<(rows * srcStride)).map { Float($0 % 1_000) - 400 }
            var expected = [Float](repeating: -1, count: rows * dstStride)
            for r in 0..<rows { for c in 0..<length { expected[r * dstStride + c] = src[r * srcStride + c] } }
            var got = [Float](repeating: -1, count: rows * dstStride)
            src.withUnsafeBufferPointer { s in
                got.withUnsafeMutableBufferPointer { d in
                    guard let s = s.baseAddress, let d = d.baseAddress else { return }
                    Kernels.copyRows(rows, length: length, from: s, stride: srcStride, to: d, stride: dstStride)
                }
            }
            XCTAssertEqual(got, expected, "copy \(rows)×\(length)")
            for r in 0..<rows { for c in 0..<length { expected[r * dstStride + c] = 0 } }
            got.withUnsafeMutableBufferPointer { d in
                guard let d = d.baseAddress else { return }
                Kernels.zeroRows(rows, length: length, at: d, stride: dstStride)
            }
            XCTAssertEqual(got, expected, "zero \(rows)×\(length)")
        }
    }

    func testSliceAndConcatGradientsOnLargeTensors() throws {
        // [6, 40_000, 3] sliced on axis 1: pieces of 2^16 floats cross rows; the gradient is g inside, 0 outside.
        let x = randomInput([6, 40_000, 3], seed: 1)
        x.requiresGrad = true
        let y = try x.slice(axis: 1, start: 9_999, end: 31_234)
        let g = randomInput(y.shape, seed: 2)
        try y.backward(seed: g)
        let (xs, gs) = (x.toArray(), g.toArray())
        var expectedGrad = [Float](repeating: 0, count: x.count), expectedSlice = [Float]()
        for o in 0..<6 {
            for i in 9_999..<31_234 {
                for k in 0..<3 {
                    let at = (o * 40_000 + i) * 3 + k
                    expectedGrad[at] = gs[expectedSlice.count]
                    expectedSlice.append(xs[at])
                }
            }
        }
        XCTAssertEqual(y.toArray(), expectedSlice)
        XCTAssertEqual(x.grad?.toArray(), expectedGrad)
        let a = randomInput([5, 30_000], seed: 3), b = randomInput([5, 11], seed: 4)
        a.requiresGrad = true
        b.requiresGrad = true
        let joined = try concat([a, b], axis: 1)
        XCTAssertEqual(try joined.slice(axis: 1, start: 0, end: 30_000).toArray(), a.toArray())
        XCTAssertEqual(try joined.slice(axis: 1, start: 30_000, end: 30_011).toArray(), b.toArray())
        let gj = randomInput(joined.shape, seed: 5)
        try joined.backward(seed: gj)
        XCTAssertEqual(a.grad?.toArray(), try gj.slice(axis: 1, start: 0, end: 30_000).toArray())
        XCTAssertEqual(b.grad?.toArray(), try gj.slice(axis: 1, start: 30_000, end: 30_011).toArray())
    }

    func testPermutesMatchPlainIndexing() throws {
        // NCHW ↔ tokens × channels (tiled: 16 rows a vector), sizes that leave partial tiles, and other orders.
        let cases: [([Int], [Int])] = [
            ([2, 64, 256], [0, 2, 1]), ([3, 37, 50], [0, 2, 1]), ([2, 8, 6, 5], [0, 2, 3, 1]),
            ([2, 33, 17], [2, 1, 0]), ([4, 5, 40, 3], [1, 3, 2, 0]), ([2, 3, 4, 5], [0, 2, 1, 3]),
        ]
        for (n, (shape, dims)) in cases.enumerated() {
            let x = randomInput(shape, seed: UInt64(40 + n))
            let y = try x.permute(dims)
            let xs = x.toArray(), outShape = dims.map { shape[$0] }
            var inStrides = [Int](repeating: 1, count: shape.count)
            for i in stride(from: shape.count - 2, through: 0, by: -1) {
                inStrides[i] = inStrides[i + 1] * shape[i + 1]
            }
            var expected = [Float]()
            for flat in 0..<x.count {
                var rem = flat, at = 0
                for d in stride(from: outShape.count - 1, through: 0, by: -1) {
                    at += rem % outShape[d] * inStrides[dims[d]]
                    rem /= outShape[d]
                }
                expected.append(xs[at])
            }
            XCTAssertEqual(y.shape, outShape, "case \(n)")
            XCTAssertEqual(y.toArray(), expected, "case \(n)")
        }
    }

    func testLargeZeroTensorsAreZero() {
        let t = Tensor(zeros: [3, 100_003])
        XCTAssertTrue(t.toArray().allSatisfy { $0 == 0 && $0.sign == .plus })
    }
}
