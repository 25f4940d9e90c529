import Foundation
import ReverieCore
import ReverieData
import XCTest

/// The done bar of issue 5: the evaluator reads back ≥ 99 % of every attribute on clean renders and ≥ 95 % on
/// renders blurred (σ = 0.7 px) and noised (σ = 0.03).
final class EvaluatorAccuracyTests: XCTestCase {
    static let count = 2000

    /// Reads `count` renders of seed-1234 scenes, degraded by `degradation` if given.
    func measure(_ degradation: Degradation?) -> AttributeScores {
        let world = ShapesWorld(seed: 1234), evaluator = Evaluator()
        var noise = RNG(seed: 99)
        var total = AttributeScores()
        for i in 0..<Self.count {
            let scene = world.scene(at: i)
            var image = world.render(scene)
            if let d = degradation { image = d.apply(to: image, rng: &noise) }
            total = total + evaluator.score(image, expected: scene)
        }
        return total
    }

    func testCleanRendersReadBackAtLeast99Percent() {
        let start = Date()
        let s = measure(nil)
        let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
        print("clean renders (\(Self.count), \(seconds) s):\n\(s.report)")
        for (name, t) in s.byName {
            XCTAssertEqual(t.total, name == "shape" || name == "color" || name == "size" || name == "position"
                           ? s.shape.total : Self.count, name)
            XCTAssertGreaterThanOrEqual(t.accuracy, 0.99, "clean \(name): \(t.correct)/\(t.total)")
        }
    }

    func testBlurredNoisyRendersReadBackAtLeast95Percent() {
        let start = Date()
        let s = measure(.standard)
        print("blur 0.7 + noise 0.03 (\(Self.count), \(String(format: "%.1f", Date().timeIntervalSince(start))) s):\n"
              + s.report)
        for (name, t) in s.byName {
            XCTAssertGreaterThanOrEqual(t.accuracy, 0.95, "degraded \(name): \(t.correct)/\(t.total)")
        }
    }
}
