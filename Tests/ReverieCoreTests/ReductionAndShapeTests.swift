import Foundation
import ReverieCore
import ReverieTestSupport
import XCTest

final class ReductionAndShapeTests: XCTestCase {
    let x = try! Tensor(shape: [2, 3], data: [1, 5, 3, 4, 2, 6])  // test constant

    func testReductionValues() throws {
        XCTAssertEqual(try x.sum().item(), 21)
        XCTAssertEqual(try x.mean().item(), 3.5)
        assertClose(try x.sum(axis: 0).toArray(), [5, 7, 9], atol: 0)
        assertClose(try x.sum(axis: -1, keepDims: true).toArray(), [9, 12], atol: 0)
        XCTAssertEqual(try x.sum(axis: 1, keepDims: true).shape, [2, 1])
        assertClose(try x.mean(axes: [0, 1]).toArray(), [3.5], atol: 0)
        assertClose(try x.max(axis: 1).toArray(), [5, 6], atol: 0)
        assertClose(try x.max(axis: 0).toArray(), [4, 5, 6], atol: 0)
        assertClose(try x.variance(axes: [1]).toArray(), [4, 4], atol: 1e-6)  // torch.var (unbiased)
        assertClose(try x.variance(axes: [1], unbiased: false).toArray(), [8.0 / 3, 8.0 / 3], atol: 1e-6)
    }

    func testReductionGradients() throws {
        let t = randomInput([2, 3, 4], seed: 11)
        try checkGradients([t]) { try $0[0].sum(axes: [0, 2]) }
        try checkGradients([t]) { try $0[0].mean(axis: 1, keepDims: true) }
        try checkGradients([t]) { try $0[0].variance(axes: [2]) }
        try checkGradients([t]) { try $0[0].max(axis: 2) }
        try checkGradients([t]) { $0[0].mean() }
    }

    func testSoftmaxValuesAndGradients() throws {
        let s = try x.softmax(axis: 1).toArray()
        let e: [Float] = [1, 5, 3].map { Foundation.exp($0 - 5) }
        let z = e.reduce(0, +)
        assertClose(Array(s[0..<3]), e.map { $0 / z }, atol: 1e-6)
        let ls = try x.logSoftmax(axis: 0).toArray()
        assertClose(
            [ls[0], ls[3]],
            [
                1 - Foundation.log(Foundation.exp(1) + Foundation.exp(4)),
                4 - Foundation.log(Foundation.exp(1) + Foundation.exp(4)),
            ], atol: 1e-6)
        let t = randomInput([2, 3, 5], seed: 12)
        for axis in [0, 1, 2] {
            try checkGradients([t]) { try $0[0].softmax(axis: axis) }
            try checkGradients([t]) { try $0[0].logSoftmax(axis: axis) }
        }
    }

    func testShapeOpsValues() throws {
        let t = try Tensor(shape: [2, 3, 4], data: (0..<24).map(Float.init))
        let p = try t.permute([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        XCTAssertEqual(p[1, 1, 2], t[1, 2, 1])
        XCTAssertEqual(try t.transpose(0, 2)[3, 1, 0], t[0, 1, 3])
        let r = try t.reshape([6, -1])
        XCTAssertEqual(r.shape, [6, 4])
        XCTAssertTrue(r.storage === t.storage, "reshape is a view")
        let s = try t.slice(axis: 1, start: 1, end: 3)
        XCTAssertEqual(s.shape, [2, 2, 4])
        XCTAssertEqual(s[1, 0, 2], t[1, 1, 2])
        let first = try t.slice(axis: 0, start: 1, end: 2)
        XCTAssertTrue(first.storage === t.storage, "leading-axis slice is a view")
        XCTAssertEqual(first[0, 2, 3], 23)
        let parts = try t.split([1, 3], axis: 2)
        XCTAssertEqual(parts.map(\.shape), [[2, 3, 1], [2, 3, 3]])
        let c = try concat(parts.reversed(), axis: 2)
        XCTAssertEqual(c[0, 0, 0], 1)
        XCTAssertEqual(c[0, 0, 3], 0)
        let st = try stack([t, t], axis: 1)
        XCTAssertEqual(st.shape, [2, 2, 3, 4])
        XCTAssertEqual(st[1, 1, 2, 3], t[1, 2, 3])
        XCTAssertThrowsError(try t.reshape([5, 5]))
        XCTAssertThrowsError(try t.permute([0, 0, 1]))
        XCTAssertThrowsError(try concat([t, Tensor(zeros: [2, 2, 3])], axis: 1)) { error in
            XCTAssertTrue("\(error)".contains("[2, 2, 3]"), "\(error)")
        }
    }

    func testShapeOpGradients() throws {
        let a = randomInput([2, 3, 4], seed: 13), b = randomInput([2, 2, 4], seed: 14)
        try checkGradients([a]) { try $0[0].permute([1, 2, 0]) }
        try checkGradients([a]) { try $0[0].reshape([4, 6]) }
        try checkGradients([a]) { try $0[0].slice(axis: 2, start: 1, end: 3) }
        try checkGradients([a, b]) { try concat([$0[0], $0[1]], axis: 1) }
        try checkGradients([a]) { try stack([$0[0], $0[0].square()], axis: 2) }
        try checkGradients([a]) { try $0[0].split([1, 3], axis: 2)[1] }
        try checkGradients([a]) { try $0[0].broadcast(to: [3, 2, 3, 4]) }
    }

    func testIndexingAndWhere() throws {
        let w = try Tensor(shape: [4, 2], data: [0, 1, 10, 11, 20, 21, 30, 31])
        let e = try embedding(w, ids: [2, 0, 2, 3], idsShape: [2, 2])
        XCTAssertEqual(e.shape, [2, 2, 2])
        assertClose(e.toArray(), [20, 21, 0, 1, 20, 21, 30, 31], atol: 0)
        XCTAssertThrowsError(try embedding(w, ids: [4])) { XCTAssertTrue("\($0)".contains("4"), "\($0)") }
        let wg = randomInput([4, 3], seed: 15)
        try checkGradients([wg]) { try embedding($0[0], ids: [1, 1, 3]) }  // repeated ids accumulate
        try checkGradients([randomInput([2, 4, 3], seed: 16)]) { try $0[0].indexSelect(axis: 1, [3, 0, 3]) }

        let mask = try Tensor(shape: [1, 3], data: [1, 0, 1])
        let a = try Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        assertClose(try `where`(mask, a, Tensor(scalar: -1)).toArray(), [1, -1, 3, 4, -1, 6], atol: 0)
        assertClose(try a.maskedFill(mask, 0).toArray(), [0, 2, 0, 0, 5, 0], atol: 0)
        try checkGradients([randomInput([2, 3], seed: 17), randomInput([3], seed: 18)]) {
            try `where`(mask, $0[0], $0[1])
        }
    }

    func testLossesAndDropout() throws {
        let logits = try Tensor(shape: [3, 4], data: [1, 2, 3, 4, 0, 0, 0, 0, 4, 3, 2, 1])
        let lse: Float = Foundation.log([1, 2, 3, 4].map { Foundation.exp(Float($0)) }.reduce(0, +))
        let ce = try crossEntropy(logits, targets: [3, -100, 1])
        XCTAssertEqual(try ce.item(), ((lse - 4) + (lse - 3)) / 2, accuracy: 1e-6)
        try checkGradients([randomInput([3, 5], seed: 19)]) { try crossEntropy($0[0], targets: [4, -100, 0]) }
        XCTAssertEqual(try crossEntropy(logits, targets: [-100, -100, -100]).item(), 0)
        XCTAssertThrowsError(try crossEntropy(logits, targets: [4, 0, 0]))

        XCTAssertEqual(
            try mseLoss(try Tensor(shape: [2], data: [1, 3]), try Tensor(shape: [2], data: [0, 0])).item(), 5)
        try checkGradients([randomInput([2, 3], seed: 20), randomInput([2, 3], seed: 21)]) { try mseLoss($0[0], $0[1]) }
        let u = try Tensor(shape: [2, 2], data: [1, 0, 3, 4]), v = try Tensor(shape: [2, 2], data: [1, 1, 3, 4])
        assertClose(try cosineSimilarity(u, v).toArray(), [Float(1 / 2.0.squareRoot()), 1], atol: 1e-6)
        try checkGradients([randomInput([3, 4], seed: 22), randomInput([3, 4], seed: 23)]) {
            try cosineSimilarity($0[0], $0[1])
        }

        var rng = RNG(seed: 1)
        let ones = Tensor(repeating: 1, shape: [10_000])
        let d = try ones.dropout(0.25, training: true, rng: &rng).toArray()
        let kept = d.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 10_000, 0.75, accuracy: 0.02)
        XCTAssertTrue(kept.allSatisfy { abs($0 - 4.0 / 3) < 1e-6 })
        XCTAssertTrue(try ones.dropout(0.5, training: false, rng: &rng) === ones)
        var r1 = RNG(seed: 9), r2 = RNG(seed: 9)
        XCTAssertEqual(
            try ones.dropout(0.5, training: true, rng: &r1).toArray(),
            try ones.dropout(0.5, training: true, rng: &r2).toArray())
    }
}
