import Foundation
import ReverieCore
import ReverieTestSupport
import XCTest

@testable import ReverieVision

final class SigmoidContrastiveLossTests: XCTestCase {
    /// B = 2, D = 2, against the SigLIP formula evaluated in Double by hand.
    func testLossMatchesHandComputedValue() throws {
        let img: [[Double]] = [[3, 4], [1, -2]], txt: [[Double]] = [[1, 1], [-0.5, 2]]
        let (scale, bias) = (0.7, -1.5)  // logitScale (a log) and logitBias
        func unit(_ v: [Double]) -> [Double] {
            let n = (v[0] * v[0] + v[1] * v[1]).squareRoot()
            return v.map { $0 / n }
        }
        let (ni, nt) = (img.map(unit), txt.map(unit))
        var expected = 0.0
        for i in 0..<2 {
            for j in 0..<2 {
                let logit = (ni[i][0] * nt[j][0] + ni[i][1] * nt[j][1]) * Foundation.exp(scale) + bias
                let label: Double = i == j ? 1 : -1
                expected -= Foundation.log(1 / (1 + Foundation.exp(-label * logit)))
            }
        }
        expected /= 2
        let loss = try sigmoidContrastiveLoss(
            image: Tensor(shape: [2, 2], data: img.flatMap { $0.map(Float.init) }),
            text: Tensor(shape: [2, 2], data: txt.flatMap { $0.map(Float.init) }),
            logitScale: Tensor(shape: [1], data: [Float(scale)]), logitBias: Tensor(scalar: Float(bias)))
        XCTAssertEqual(loss.shape, [])
        XCTAssertEqual(Double(try loss.item()), expected, accuracy: 1e-5)
    }

    /// Large logits of either sign stay finite (log σ is computed as −softplus(−x)).
    func testLossIsFiniteForLargeLogits() throws {
        let e = try Tensor(shape: [2, 2], data: [1, 0, 0, 1])
        let loss = try sigmoidContrastiveLoss(
            image: e, text: e.detached().copy(), logitScale: Tensor(scalar: 6),
            logitBias: Tensor(scalar: -200))
        // Diagonal logits ≈ 403 − 200 → ≈ 0; off-diagonal −200 → ≈ 0.
        XCTAssertEqual(try loss.item(), 0, accuracy: 1e-6)
        let bad = try sigmoidContrastiveLoss(
            image: e, text: e, logitScale: Tensor(scalar: 0),
            logitBias: Tensor(scalar: 200))
        XCTAssertEqual(try bad.item(), 200, accuracy: 1e-2)  // two off-diagonal terms softplus(200) = 200, / 2 rows
    }

    func testGradientsMatchFiniteDifferences() throws {
        let image = randomInput([3, 4], seed: 11), text = randomInput([3, 4], seed: 12)
        let scale = try Tensor(shape: [1], data: [0.8], requiresGrad: true)
        let bias = try Tensor(shape: [1], data: [-0.5], requiresGrad: true)
        try checkGradients([image, text, scale, bias], eps: 1e-3, atol: 5e-3, rtol: 5e-3) { x in
            try sigmoidContrastiveLoss(image: x[0], text: x[1], logitScale: x[2], logitBias: x[3])
        }
    }

    func testRejectsMismatchedShapes() throws {
        let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [3, 3])
        XCTAssertThrowsError(
            try sigmoidContrastiveLoss(
                image: a, text: b, logitScale: Tensor(scalar: 0),
                logitBias: Tensor(scalar: 0)))
        XCTAssertThrowsError(
            try sigmoidContrastiveLoss(
                image: a, text: a, logitScale: Tensor(zeros: [2]),
                logitBias: Tensor(scalar: 0)))
    }
}
