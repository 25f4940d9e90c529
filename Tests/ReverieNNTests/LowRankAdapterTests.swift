import ReverieCore
import XCTest

@testable import ReverieNN

/// LoRA: an adapter starts as the identity update (B = 0), and a trained one merged into the weight computes what
/// the unmerged layer does.
final class LowRankAdapterTests: XCTestCase {
    func testAFreshAdapterChangesNothingAndAMergedOneEqualsTheUnmerged() throws {
        var rng = RNG(seed: 3)
        let linear = try Linear(inFeatures: 12, outFeatures: 10, rng: &rng)
        let x = try Tensor(shape: [2, 5, 12], data: (0..<120).map { Float($0 % 17) / 8 - 1 })
        let before = try withNoGrad { try linear(x) }.toArray()
        try linear.attachAdapter(rank: 3, alpha: 6, rng: &rng)
        XCTAssertEqual(try withNoGrad { try linear(x) }.toArray(), before)
        XCTAssertEqual(Set(linear.stateDict().keys), ["weight", "bias", "lora_A.weight", "lora_B.weight"])
        let adapter = try XCTUnwrap(linear.adapter)
        for i in 0..<adapter.b.weight.count { adapter.b.weight.mutableBuffer[i] = Float(i % 7) / 10 - 0.3 }
        let unmerged = try withNoGrad { try linear(x) }.toArray()
        let plain = try Linear(inFeatures: 12, outFeatures: 10, rng: &rng)
        plain.weight.mutableBuffer.update(fromContentsOf: try linear.mergedWeight().toArray())
        plain.bias!.mutableBuffer.update(fromContentsOf: linear.bias!.toArray())
        let merged = try withNoGrad { try plain(x) }.toArray()
        XCTAssertGreaterThan(zip(unmerged, before).map { abs($0 - $1) }.max() ?? 0, 0.01)
        XCTAssertLessThan(zip(unmerged, merged).map { abs($0 - $1) }.max() ?? 1, 1e-5)
        // Gradients reach only what requires them: with the weight frozen, the adapter still learns.
        linear.weight.requiresGrad = false
        let loss = try linear(x).sum()
        try loss.backward()
        XCTAssertNil(linear.weight.grad)
        XCTAssertNotNil(adapter.a.weight.grad)
        XCTAssertThrowsError(try linear.attachAdapter(rank: 11, alpha: 1, rng: &rng))
    }
}
