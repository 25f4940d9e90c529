import Foundation
import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

final class ScheduleAndClippingTests: XCTestCase {
    func testCosineScheduleWarmupPeakAndEnd() throws {
        let s = LRSchedule.cosine(peak: 1e-3, warmupSteps: 10, totalSteps: 110, minLR: 1e-5)
        try s.validate()
        XCTAssertEqual(s.lr(step: 0), 1e-4, accuracy: 1e-15)  // first step already trains
        XCTAssertEqual(s.lr(step: 4), 5e-4, accuracy: 1e-15)
        XCTAssertEqual(s.lr(step: 9), 1e-3, accuracy: 1e-15)  // warmup ends at the peak
        XCTAssertEqual(s.lr(step: 10), 1e-3, accuracy: 1e-15)
        XCTAssertEqual(s.lr(step: 60), 1e-5 + (1e-3 - 1e-5) * 0.5, accuracy: 1e-15)  // half way: midpoint
        XCTAssertEqual(s.lr(step: 110), 1e-5, accuracy: 1e-15)
        XCTAssertEqual(s.lr(step: 500), 1e-5, accuracy: 1e-15)
        let decreasing = (10...110).map { s.lr(step: $0) }
        XCTAssertTrue(zip(decreasing, decreasing.dropFirst()).allSatisfy { $0 >= $1 })
    }

    func testConstantScheduleAndValidation() {
        XCTAssertEqual(LRSchedule.constant(lr: 0.3).lr(step: 0), 0.3)
        XCTAssertEqual(LRSchedule.constant(lr: 0.3).lr(step: 1000), 0.3)
        XCTAssertEqual(LRSchedule.constant(lr: 0.3, warmupSteps: 3).lr(step: 0), 0.1, accuracy: 1e-15)
        XCTAssertEqual(LRSchedule.constant(lr: 0.3, warmupSteps: 3).lr(step: 3), 0.3)
        XCTAssertThrowsError(try LRSchedule.cosine(peak: 1, warmupSteps: 10, totalSteps: 5).validate())
        XCTAssertThrowsError(try LRSchedule.cosine(peak: 1, warmupSteps: 0, totalSteps: 5, minLR: 2).validate())
        XCTAssertThrowsError(try LRSchedule.constant(lr: -1).validate())
    }

    func testClipGradNormScalesToMaxNormAndReturnsThePreClipNorm() throws {
        let a = Tensor(zeros: [2], requiresGrad: true), b = Tensor(zeros: [1, 1], requiresGrad: true)
        let untouched = Tensor(zeros: [3], requiresGrad: true)  // no gradient: contributes nothing
        a.grad = try Tensor(shape: [2], data: [3, 4])
        b.grad = try Tensor(shape: [1, 1], data: [12])
        XCTAssertEqual(gradNorm([a, b, untouched]), 13, accuracy: 1e-6)
        // Above the norm: nothing changes.
        XCTAssertEqual(clipGradNorm([a, b, untouched], maxNorm: 20), 13, accuracy: 1e-6)
        XCTAssertEqual(a.grad!.toArray() + b.grad!.toArray(), [3, 4, 12])
        let norm = clipGradNorm([a, b, untouched], maxNorm: 1)
        XCTAssertEqual(norm, 13, accuracy: 1e-6)
        let k: Float = 1 / (13 + 1e-6)
        assertClose(a.grad!.toArray() + b.grad!.toArray(), [3 * k, 4 * k, 12 * k], atol: 1e-7)
        XCTAssertEqual(gradNorm([a, b]), 1, accuracy: 1e-5)
        XCTAssertNil(untouched.grad)
    }

    func testClipGradNormOverLargeTensorsIsAccurate() throws {
        // 300 000 elements span several chunks; compare with a Double sum.
        var rng = RNG(seed: 41)
        let p = Tensor(zeros: [300_000], requiresGrad: true)
        p.grad = Tensor.randn([300_000], rng: &rng)
        let exact = p.grad!.toArray().reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(Double(clipGradNorm([p], maxNorm: 1)), exact, accuracy: exact * 1e-6)
        XCTAssertEqual(Double(gradNorm([p])), 1, accuracy: 1e-5)
    }

    func testNonFiniteNormLeavesGradientsAlone() throws {
        let p = Tensor(zeros: [2], requiresGrad: true)
        p.grad = try Tensor(shape: [2], data: [.infinity, 1])
        XCTAssertFalse(clipGradNorm([p], maxNorm: 1).isFinite)
        XCTAssertEqual(p.grad!.toArray()[1], 1)
    }
}
