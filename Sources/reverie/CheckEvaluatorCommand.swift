import ArgumentParser
import Foundation
import ReverieCore
import ReverieData

/// `reverie data check-evaluator`: the ShapesWorld evaluator's own accuracy (docs/DESIGN.md §7: it must be right
/// before any model score means anything). Renders scenes, reads them back clean and degraded, and fails below the bar.
struct CheckEvaluatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-evaluator",
        abstract: "Measure how well the ShapesWorld evaluator reads clean and degraded renders back.",
        discussion: """
            Exits non-zero unless every attribute reaches 99 % on clean renders and 95 % on renders blurred and \
            noised as given (issue 5's bar: --blur 0.7 --noise 0.03).
            """)

    @Option(help: "Scenes to render.")
    var count = 2000

    @Option(help: "Scene seed.")
    var seed: UInt64 = 1234

    @Option(help: "Gaussian blur sigma in pixels for the degraded pass.")
    var blur: Float = 0.7

    @Option(help: "Gaussian noise sigma (pixel values in [0, 1]) for the degraded pass.")
    var noise: Float = 0.03

    @Flag(help: "Print a JSON report.")
    var json = false

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        guard blur >= 0, noise >= 0, blur.isFinite, noise.isFinite else {
            throw ValidationError("--blur and --noise must be finite and ≥ 0")
        }
    }

    struct Pass: Codable {
        var name: String
        var bar: Double
        var accuracy: [String: Double]
        var correct: [String: Int]
        var total: [String: Int]
        var passed: Bool
    }

    struct Report: Codable {
        var count: Int
        var seed: UInt64
        var blur: Float
        var noise: Float
        var seconds: Double
        var passes: [Pass]
    }

    func run() throws {
        let start = Date()
        let world = ShapesWorld(seed: seed), evaluator = Evaluator()
        let degradation = Degradation(blurSigma: blur, noiseSigma: noise)
        var rng = RNG(seed: seed ^ 0xDE6A)
        var clean = AttributeScores(), degraded = AttributeScores()
        for i in 0..<count {
            let scene = world.scene(at: i), image = world.render(scene)
            clean = clean + evaluator.score(image, expected: scene)
            degraded = degraded + evaluator.score(degradation.apply(to: image, rng: &rng), expected: scene)
        }
        let passes = [pass("clean", clean, bar: 0.99), pass("degraded", degraded, bar: 0.95)]
        let report = Report(
            count: count, seed: seed, blur: blur, noise: noise,
            seconds: Date().timeIntervalSince(start), passes: passes)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("\(count) scenes, seed \(seed), \(String(format: "%.1f", report.seconds)) s")
            for (p, scores) in zip(passes, [clean, degraded]) {
                let title = p.name == "clean" ? "clean" : "blur \(blur) px + noise \(noise)"
                print("\(title) (bar \(Int(p.bar * 100)) %): \(p.passed ? "pass" : "FAIL")")
                print(scores.report.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            }
        }
        guard passes.allSatisfy(\.passed) else { throw ExitCode.failure }
    }

    func pass(_ name: String, _ s: AttributeScores, bar: Double) -> Pass {
        let tallies = s.byName
        return Pass(
            name: name, bar: bar,
            accuracy: Dictionary(uniqueKeysWithValues: tallies.map { ($0.0, $0.1.accuracy) }),
            correct: Dictionary(uniqueKeysWithValues: tallies.map { ($0.0, $0.1.correct) }),
            total: Dictionary(uniqueKeysWithValues: tallies.map { ($0.0, $0.1.total) }),
            passed: tallies.allSatisfy { $0.1.accuracy >= bar })
    }
}
