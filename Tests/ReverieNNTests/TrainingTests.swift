import Foundation
import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

final class TrainingTests: XCTestCase {
    func testTinyMLPFitsARegressionTask() throws {
        // y = sin(2·x₀) + x₁² / 2 on 64 fixed points in [-1, 1]².
        var rng = RNG(seed: 61)
        let x = Tensor.uniform([64, 2], low: -1, high: 1, rng: &rng)
        let targets = (0..<64).map { Foundation.sin(2 * x[$0, 0]) + x[$0, 1] * x[$0, 1] / 2 }
        let y = try Tensor(shape: [64, 1], data: targets)
        let model = try MLP(dim: 2, hidden: 32, outDim: 1, activation: .geluTanh, rng: &rng)
        let opt = try AdamW(parameters: model.namedParameters(), lr: 0, weightDecay: 1e-4)
        let schedule = LRSchedule.cosine(peak: 0.02, warmupSteps: 20, totalSteps: 400, minLR: 0.001)
        var losses: [Float] = []
        for step in 0..<400 {
            opt.lr = schedule.lr(step: step)
            opt.zeroGrad()
            let loss = try mseLoss(model(x), y)
            try loss.backward()
            clipGradNorm(model.parameters(), maxNorm: 1)
            opt.step()
            losses.append(try loss.item())
        }
        let first = losses[0], last = losses.suffix(10).reduce(0, +) / 10
        XCTAssertLessThan(last * 10, first, "loss \(first) → \(last)")
    }
}
