import Foundation
import ReverieCore

/// Adam with decoupled weight decay, step for step the arithmetic of `torch.optim.AdamW` (single-tensor path):
///
/// ```
/// p ← p · (1 − lr·wd)                      (decayed parameters only)
/// m ← lerp(m, g, 1 − β₁)
/// v ← v·β₂ + (1 − β₂)·g·g
/// p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
/// ```
///
/// Scalars (bias corrections, step size) are formed in Double and rounded once, as PyTorch's Python floats are;
/// the per-element work is one fused SIMD pass over each parameter, in place, with no allocations after the
/// first step. Each parameter counts its own steps `t`, so one that was frozen for a while starts its bias
/// correction afresh when unfrozen, as in PyTorch.
///
/// Parameters with `requiresGrad == false` (frozen) or without a gradient are skipped entirely.
public final class AdamW {
    /// Learning rate; a schedule sets it before each `step()`.
    public var lr: Double
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    /// Number of `step()` calls so far.
    public internal(set) var stepCount = 0

    /// One parameter and its moments.
    final class Slot {
        let key: String
        let param: Tensor
        let decays: Bool
        var expAvg: Tensor?
        var expAvgSq: Tensor?
        var steps = 0

        init(key: String, param: Tensor, decays: Bool) {
            (self.key, self.param, self.decays) = (key, param, decays)
        }
    }

    let slots: [Slot]

    /// The default weight-decay exclusion: 0-d and 1-d tensors (biases, norm weights) are not decayed.
    public static func excludesVectors(_ key: String, _ tensor: Tensor) -> Bool { tensor.rank <= 1 }

    /// - Parameters:
    ///   - parameters: keyed parameters, usually `model.namedParameters()`; the keys name the optimizer state.
    ///     All of them may be passed: frozen ones are skipped at each step, so unfreezing later just works.
    ///   - lr: the learning rate (the trainer sets it each step from its schedule).
    ///   - betas: the moments' decay rates β₁, β₂.
    ///   - eps: added to the second moment's root.
    ///   - weightDecay: decoupled weight decay of the decayed group.
    ///   - noDecay: parameters for which it returns true form the group without weight decay.
    /// - Throws: `ModuleError.invalidConfiguration` on out-of-range hyperparameters or a repeated key.
    public init(
        parameters: [(String, Tensor)], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
        eps: Double = 1e-8, weightDecay: Double = 1e-2,
        noDecay: (String, Tensor) -> Bool = AdamW.excludesVectors
    ) throws {
        func invalid(_ detail: String) -> ModuleError { .invalidConfiguration(module: "AdamW", detail: detail) }
        guard lr >= 0 else { throw invalid("lr \(lr) is negative") }
        guard (0..<1).contains(betas.0), (0..<1).contains(betas.1) else {
            throw invalid("betas \(betas) must lie in [0, 1)")
        }
        guard eps >= 0 else { throw invalid("eps \(eps) is negative") }
        guard weightDecay >= 0 else { throw invalid("weightDecay \(weightDecay) is negative") }
        var keys = Set<String>()
        var tensors = Set<ObjectIdentifier>()
        var slots: [Slot] = []
        for (key, p) in parameters {
            guard keys.insert(key).inserted else { throw invalid("parameter key '\(key)' given twice") }
            guard tensors.insert(ObjectIdentifier(p)).inserted else { continue }  // tied weights: update once
            slots.append(Slot(key: key, param: p, decays: weightDecay > 0 && !noDecay(key, p)))
        }
        (self.lr, beta1, beta2) = (lr, betas.0, betas.1)
        (self.eps, self.weightDecay, self.slots) = (eps, weightDecay, slots)
    }

    /// Keys of the parameters in the weight-decay group, in order.
    public var decayedKeys: [String] { slots.filter(\.decays).map(\.key) }
    /// Keys of the parameters without weight decay, in order.
    public var undecayedKeys: [String] { slots.filter { !$0.decays }.map(\.key) }

    /// Clears the gradients of every parameter this optimizer holds.
    public func zeroGrad() {
        for s in slots { s.param.zeroGrad() }
    }

    /// Applies one update to every trainable parameter that has a gradient.
    ///
    /// All parameters' updates run as one parallel loop over pieces of at most `AdamWKernel.grain` elements: a
    /// model's many small tensors (biases, norms) left a core idle when updated one after another. Each element's
    /// update is independent, so the pieces change no result.
    public func step() {
        stepCount += 1
        var pieces: [AdamWKernel.Piece] = []
        for slot in slots where slot.param.requiresGrad {
            guard let grad = slot.param.grad else { continue }
            let p = slot.param
            // The engine always makes gradients of the parameter's shape; anything else is a caller's bug and
            // would read out of bounds below.
            precondition(
                grad.count == p.count,
                "gradient \(shapeString(grad.shape)) for \(slot.key) \(shapeString(p.shape))")
            let m = slot.expAvg ?? Tensor(zeros: p.shape), v = slot.expAvgSq ?? Tensor(zeros: p.shape)
            (slot.expAvg, slot.expAvgSq) = (m, v)
            slot.steps += 1
            let t = Double(slot.steps)
            let bc1 = 1 - Foundation.pow(beta1, t), bc2 = 1 - Foundation.pow(beta2, t)
            let c = AdamWConstants(
                decay: Float(1 - lr * (slot.decays ? weightDecay : 0)), lerpWeight: Float(1 - beta1),
                beta2: Float(beta2), oneMinusBeta2: Float(1 - beta2), bc2Sqrt: Float(bc2.squareRoot()),
                eps: Float(eps), negStepSize: Float(-(lr / bc1)))
            for start in stride(from: 0, to: p.count, by: AdamWKernel.grain) {
                pieces.append(
                    AdamWKernel.Piece(
                        p: p.pointer + start, g: grad.pointer + start, m: m.pointer + start, v: v.pointer + start,
                        count: Swift.min(AdamWKernel.grain, p.count - start), constants: c))
            }
        }
        // The tensors stay alive meanwhile: the slots hold the parameters, their gradients and the moments.
        ThreadPolicy.parallelItems(pieces.count) { i in
            let x = pieces[i]
            AdamWKernel.update(x.p, x.g, x.m, x.v, count: x.count, x.constants)
        }
    }
}

/// The per-step scalars of one parameter's update, already rounded to Float as PyTorch's kernels see them.
struct AdamWConstants {
    let decay: Float
    let lerpWeight: Float
    let beta2: Float
    let oneMinusBeta2: Float
    let bc2Sqrt: Float
    let eps: Float
    let negStepSize: Float
}

/// The fused elementwise update. Plain IEEE operations in PyTorch's order, no FMA contraction, so the SIMD body
/// and the scalar tail agree bit for bit and chunking (thread count) never changes a result.
enum AdamWKernel {
    static let grain = 65_536

    /// One stretch of one parameter's update.
    struct Piece {
        let p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>
        let m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
        let count: Int
        let constants: AdamWConstants
    }

    static func update(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
        _ v: UnsafeMutablePointer<Float>, count: Int, _ c: AdamWConstants
    ) {
        // torch.lerp: self + w·(end − self) for |w| < 0.5, else end − (end − self)·(1 − w).
        let smallWeight = c.lerpWeight.magnitude < 0.5
        let oneMinusW = 1 - c.lerpWeight
        ThreadPolicy.parallelFor(count, grain: grain) { range in
            var i = range.lowerBound
            @inline(__always) func simd(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
                UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
            }
            @inline(__always) func put(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
                UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Float>.self)
            }
            while i + 8 <= range.upperBound {
                let gi = simd(g + i), mi = simd(m + i)
                let mo = smallWeight ? mi + c.lerpWeight * (gi - mi) : gi - (gi - mi) * oneMinusW
                let vo = simd(v + i) * c.beta2 + c.oneMinusBeta2 * gi * gi
                let denom = vo.squareRoot() / c.bc2Sqrt + c.eps
                put(simd(p + i) * c.decay + c.negStepSize * mo / denom, p + i)
                put(mo, m + i)
                put(vo, v + i)
                i += 8
            }
            while i < range.upperBound {
                let gi = g[i], mi = m[i]
                let mo = smallWeight ? mi + c.lerpWeight * (gi - mi) : gi - (gi - mi) * oneMinusW
                let vo = v[i] * c.beta2 + c.oneMinusBeta2 * gi * gi
                let denom = vo.squareRoot() / c.bc2Sqrt + c.eps
                p[i] = p[i] * c.decay + c.negStepSize * mo / denom
                m[i] = mo
                v[i] = vo
                i += 1
            }
        }
    }
}
