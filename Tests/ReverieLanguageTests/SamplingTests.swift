import Foundation
import ReverieCore
import XCTest

@testable import ReverieLanguage

final class SamplingTests: XCTestCase {
    private func draws(_ sampling: Sampling, _ logits: [Float], n: Int = 4000, seed: UInt64 = 7) throws -> [Int] {
        var rng = RNG(seed: seed)
        return try logits.withUnsafeBufferPointer { row in try (0..<n).map { _ in try sampling.next(row, rng: &rng) } }
    }

    private func frequencies(_ ids: [Int], _ count: Int) -> [Double] {
        var f = [Double](repeating: 0, count: count)
        for i in ids { f[i] += 1 / Double(ids.count) }
        return f
    }

    private let logits: [Float] = [log(0.5), log(0.3), log(0.2)].map { Float($0) + 3 }

    func testGreedyTakesArgmaxLowestIdOnTies() throws {
        XCTAssertEqual(try draws(.greedy, [0.1, 2, -1, 2], n: 3), [1, 1, 1])
        XCTAssertEqual(try draws(Sampling(topK: 1), [0.1, 2, -1, 1.9], n: 50), Array(repeating: 1, count: 50))
        XCTAssertEqual(try draws(Sampling(topP: 0.01), [0.1, 2, -1, 1.9], n: 50), Array(repeating: 1, count: 50))
    }

    func testSamplingFollowsTheSoftmax() throws {
        let f = frequencies(try draws(Sampling(), logits), 3)
        for (got, want) in zip(f, [0.5, 0.3, 0.2]) { XCTAssertEqual(got, want, accuracy: 0.03) }
        // Temperature 2 flattens: p ∝ p^(1/2).
        let flat = [0.5, 0.3, 0.2].map { $0.squareRoot() }, z = flat.reduce(0, +)
        let g = frequencies(try draws(Sampling(temperature: 2), logits), 3)
        for (got, want) in zip(g, flat.map { $0 / z }) { XCTAssertEqual(got, want, accuracy: 0.03) }
    }

    func testTopKAndTopPTruncate() throws {
        let k = frequencies(try draws(Sampling(topK: 2), logits), 3)
        XCTAssertEqual(k[2], 0)
        XCTAssertEqual(k[0], 0.5 / 0.8, accuracy: 0.03)
        // 0.5 < 0.75 ≤ 0.5 + 0.3: the two most likely tokens stay.
        let p = frequencies(try draws(Sampling(topP: 0.75), logits), 3)
        XCTAssertEqual(p[2], 0)
        XCTAssertEqual(p[1], 0.3 / 0.8, accuracy: 0.03)
    }

    func testSeededAndValidated() throws {
        XCTAssertEqual(try draws(Sampling(), logits, n: 64, seed: 3), try draws(Sampling(), logits, n: 64, seed: 3))
        XCTAssertNotEqual(try draws(Sampling(), logits, n: 64, seed: 3), try draws(Sampling(), logits, n: 64, seed: 4))
        XCTAssertThrowsError(try draws(Sampling(temperature: 0), logits, n: 1))
        XCTAssertThrowsError(try draws(Sampling(topP: 1.5), logits, n: 1))
        XCTAssertThrowsError(try draws(Sampling(topK: -1), logits, n: 1))
    }

    func testSeededGenerationIsReproducible() throws {
        let model = try LanguageModel.load(huggingFaceDirectory: llamaFixture("gqa_untied"))
        let sampling = Sampling(temperature: 0.8, topK: 20, topP: 0.9)
        let a = try model.generate(prompt: [1, 2, 3], maxNewTokens: 12, sampling: sampling, seed: 5)
        let b = try model.generate(prompt: [1, 2, 3], maxNewTokens: 12, sampling: sampling, seed: 5)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.count, 12)
        let stopped = try model.generate(
            prompt: [1, 2, 3], maxNewTokens: 12, sampling: sampling, seed: 5,
            stopTokens: [a[3]])
        XCTAssertEqual(stopped, Array(a[0...a.firstIndex(of: a[3])!]))
    }
}
