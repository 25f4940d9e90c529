import Foundation

/// A learning-rate schedule: the rate for the optimizer step about to be taken, as a pure function of its index.
///
/// Step indices are 0-based (`lr(step: optimizer.stepCount)` before `optimizer.step()`), so the first step already
/// trains: warmup rises linearly as `peak · (s + 1) / warmupSteps` and reaches the peak at `s = warmupSteps − 1`.
/// Because it depends only on the index, a resumed run gets exactly the rates of an uninterrupted one.
public enum LRSchedule: Equatable, Sendable {
    /// `lr` throughout, after an optional linear warmup.
    case constant(lr: Double, warmupSteps: Int = 0)
    /// Linear warmup to `peak`, then half a cosine from `peak` at `s = warmupSteps` down to `minLR` at
    /// `s = totalSteps`, and `minLR` after that.
    case cosine(peak: Double, warmupSteps: Int, totalSteps: Int, minLR: Double = 0)

    /// The learning rate for 0-based optimizer step `step`.
    public func lr(step: Int) -> Double {
        switch self {
        case let .constant(lr, warmup):
            return Self.warm(lr, step, warmup) ?? lr
        case let .cosine(peak, warmup, total, minLR):
            if let rising = Self.warm(peak, step, warmup) { return rising }
            let span = Swift.max(total - warmup, 1)
            let progress = Swift.min(Double(step - warmup) / Double(span), 1)
            return minLR + (peak - minLR) * 0.5 * (1 + Foundation.cos(Double.pi * progress))
        }
    }

    /// Throws `ModuleError.invalidConfiguration` for negative rates or step counts, a `minLR` above the peak, or
    /// a warmup longer than the whole cosine schedule.
    public func validate() throws {
        func invalid(_ detail: String) -> ModuleError { .invalidConfiguration(module: "LRSchedule", detail: detail) }
        switch self {
        case let .constant(lr, warmup):
            guard lr >= 0, warmup >= 0 else { throw invalid("lr \(lr) and warmupSteps \(warmup) must be ≥ 0") }
        case let .cosine(peak, warmup, total, minLR):
            guard peak >= 0, minLR >= 0, warmup >= 0 else { throw invalid("rates and warmupSteps must be ≥ 0") }
            guard minLR <= peak else { throw invalid("minLR \(minLR) exceeds peak \(peak)") }
            guard total >= warmup else { throw invalid("totalSteps \(total) is shorter than warmupSteps \(warmup)") }
        }
    }

    private static func warm(_ target: Double, _ step: Int, _ warmup: Int) -> Double? {
        step < warmup ? target * Double(Swift.max(step, 0) + 1) / Double(warmup) : nil
    }
}
