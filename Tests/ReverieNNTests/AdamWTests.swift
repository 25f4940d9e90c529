import Foundation
import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

final class AdamWTests: XCTestCase {
    /// torch.optim.AdamW's update, written out in Double.
    struct ReferenceAdamW {
        var p: [Double], m: [Double], v: [Double], t = 0
        let lr: Double, b1: Double, b2: Double, eps: Double, wd: Double

        mutating func step(_ g: [Double]) {
            t += 1
            let bc1 = 1 - pow(b1, Double(t)), bc2 = 1 - pow(b2, Double(t))
            for i in p.indices {
                p[i] *= 1 - lr * wd
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                p[i] -= lr / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + eps)
            }
        }
    }

    func testThreeStepsMatchTorchFormula() throws {
        // Loss Σ cᵢ pᵢ², so gᵢ = 2 cᵢ pᵢ. The parameter is 2-d ([1, 2]) so the default group decays it.
        let c: [Double] = [1, 3]
        let p = try Tensor(shape: [1, 2], data: [0.5, -1.5], requiresGrad: true)
        let opt = try AdamW(parameters: [("w", p)], lr: 0.1, betas: (0.9, 0.999), eps: 1e-8, weightDecay: 0.1)
        XCTAssertEqual(opt.decayedKeys, ["w"])
        var ref = ReferenceAdamW(
            p: [0.5, -1.5], m: [0, 0], v: [0, 0], lr: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1)
        let weights = try Tensor(shape: [1, 2], data: c.map(Float.init))
        for step in 1...3 {
            opt.zeroGrad()
            try (p.square() * weights).sum().backward()
            let g = ref.p.enumerated().map { 2 * c[$0.offset] * $0.element }
            ref.step(g)
            opt.step()
            assertClose(p.toArray(), ref.p.map(Float.init), atol: 1e-6, rtol: 1e-6, "step \(step)")
        }
        // The Double recurrence itself, evaluated independently (Python, float64) as a fixed point of reference.
        assertClose(ref.p.map(Float.init), [0.19341560, -1.15952016], atol: 1e-6)
        XCTAssertEqual(opt.stepCount, 3)
    }

    func testWeightDecaySkipsBiasesAndNormWeights() throws {
        var rng = RNG(seed: 31)
        let linear = try Linear(inFeatures: 2, outFeatures: 2, rng: &rng)
        let norm = try RMSNorm(dim: 2)
        let params = linear.namedParameters() + norm.namedParameters().map { ("norm." + $0.0, $0.1) }
        let opt = try AdamW(parameters: params, lr: 0.5, weightDecay: 0.2)
        XCTAssertEqual(opt.decayedKeys, ["weight"])
        XCTAssertEqual(opt.undecayedKeys, ["bias", "norm.weight"])
        // With zero gradients the Adam term is exactly 0, leaving only the decay.
        let before = params.map { $0.1.toArray() }
        for (_, p) in params { p.grad = Tensor(zeros: p.shape) }
        opt.step()
        assertClose(linear.weight.toArray(), before[0].map { $0 * (1 - 0.5 * 0.2) }, atol: 0)
        XCTAssertEqual(linear.bias!.toArray(), before[1])
        XCTAssertEqual(norm.weight.toArray(), before[2])
        // A custom predicate decides groups.
        let all = try AdamW(parameters: params, weightDecay: 0.2, noDecay: { _, _ in false })
        XCTAssertEqual(all.undecayedKeys, [])
    }

    func testFrozenParameterIsBitIdenticalWhileItsInputStillGetsAGradient() throws {
        var rng = RNG(seed: 32)
        let first = try Linear(inFeatures: 3, outFeatures: 4, rng: &rng)
        let second = try Linear(inFeatures: 4, outFeatures: 2, rng: &rng)
        final class Pair: Module {
            let a: Linear, b: Linear
            init(_ a: Linear, _ b: Linear) { (self.a, self.b) = (a, b) }
            override func visit(_ v: inout ModuleVisitor) {
                v.child("a", a)
                v.child("b", b)
            }
        }
        let model = Pair(first, second)
        try model.freeze(prefix: "b")
        let opt = try AdamW(parameters: model.namedParameters(), lr: 0.1, weightDecay: 0.1)
        let frozenBefore = second.weight.toArray() + second.bias!.toArray()
        let firstBefore = first.weight.toArray()
        let x = randomInput([5, 3], seed: 1)
        try second(first(x)).square().mean().backward()
        XCTAssertNotNil(x.grad)
        XCTAssertNotNil(first.weight.grad)
        XCTAssertNil(second.weight.grad)
        opt.step()
        XCTAssertEqual(second.weight.toArray() + second.bias!.toArray(), frozenBefore)
        XCTAssertNotEqual(first.weight.toArray(), firstBefore)
        // Even a stray gradient on a frozen parameter is ignored.
        second.weight.grad = Tensor(repeating: 1, shape: second.weight.shape)
        opt.step()
        XCTAssertEqual(second.weight.toArray() + second.bias!.toArray(), frozenBefore)
        XCTAssertNil(opt.exportState()["b.weight.exp_avg"])
    }

    /// A fixed problem: an MLP on a few samples, with one step of AdamW per call.
    func makeRun(seed: UInt64) throws -> (MLP, AdamW, () throws -> Void) {
        var rng = RNG(seed: seed)
        let mlp = try MLP(dim: 3, hidden: 70, outDim: 2, activation: .silu, rng: &rng)  // fc1.weight: 210 elements
        let opt = try AdamW(parameters: mlp.namedParameters(), lr: 0.01, weightDecay: 0.05)
        let x = randomInput([8, 3], seed: 2), y = randomInput([8, 2], seed: 3)
        return (
            mlp, opt,
            {
                opt.zeroGrad()
                try mseLoss(mlp(x), y).backward()
                opt.step()
            }
        )
    }

    func testResumeFromExportedStateIsBitExact() throws {
        let (reference, _, step) = try makeRun(seed: 5)
        for _ in 0..<5 { try step() }

        let (first, firstOpt, firstStep) = try makeRun(seed: 5)
        for _ in 0..<2 { try firstStep() }
        let savedModel = first.stateDict().mapValues { $0.copy() }
        let savedState = firstOpt.exportState()
        XCTAssertEqual(
            Set(savedState.keys),
            Set(
                ["step"]
                    + first.namedParameters().flatMap {
                        [$0.0 + ".exp_avg", $0.0 + ".exp_avg_sq", $0.0 + ".step"]
                    }))
        for _ in 0..<3 { try firstStep() }  // keeps training; the export must not alias live state

        let (resumed, resumedOpt, resumedStep) = try makeRun(seed: 99)
        try resumed.loadStateDict(savedModel)
        try resumedOpt.importState(savedState)
        XCTAssertEqual(resumedOpt.stepCount, 2)
        for _ in 0..<3 { try resumedStep() }
        for (key, t) in reference.stateDict() {
            XCTAssertEqual(resumed.stateDict()[key]!.toArray(), t.toArray(), "\(key) after resume")
            XCTAssertEqual(first.stateDict()[key]!.toArray(), t.toArray(), "\(key) uninterrupted")
        }
    }

    func testImportRejectsMismatchedState() throws {
        let (_, opt, step) = try makeRun(seed: 6)
        try step()
        var state = opt.exportState()
        state["fc1.weight.exp_avg"] = Tensor(zeros: [2, 2])
        state["fc9.weight.exp_avg"] = Tensor(zeros: [1])
        state["fc2.bias.exp_avg_sq"] = nil
        XCTAssertThrowsError(try opt.importState(state)) { error in
            let text = "\(error)"
            for key in ["fc1.weight.exp_avg", "fc9.weight.exp_avg", "fc2.bias"] {
                XCTAssertTrue(text.contains(key), "message lacks \(key): \(text)")
            }
        }
        XCTAssertThrowsError(try AdamW(parameters: [("a", Tensor(zeros: [1])), ("a", Tensor(zeros: [1]))]))
        XCTAssertThrowsError(try AdamW(parameters: [], betas: (1, 0.9)))
    }
}
