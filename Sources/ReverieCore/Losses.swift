import Foundation

/// Cross-entropy (fused with log-softmax), mean squared error and cosine similarity.

/// Mean cross-entropy of `logits` ([..., V]) against integer `targets` (one per row), skipping rows whose target
/// is `ignoreIndex`. With every row ignored the loss is 0 (not NaN) and so is its gradient.
public func crossEntropy(_ logits: Tensor, targets: [Int], ignoreIndex: Int = -100) throws -> Tensor {
    let v = logits.shape.last ?? 0
    let rows = v == 0 ? 0 : logits.count / v
    guard targets.count == rows else {
        throw TensorError.shapeMismatch(
            op: "crossEntropy", detail: "\(targets.count) targets for logits \(shapeString(logits.shape))")
    }
    if let bad = targets.first(where: { $0 != ignoreIndex && ($0 < 0 || $0 >= v) }) {
        throw TensorError.invalidArgument(op: "crossEntropy", detail: "target \(bad) outside 0..<\(v)")
    }
    let probs = Tensor(uninitialized: logits.shape)
    var losses = [Float](repeating: 0, count: rows)
    let lp = logits.pointer, pp = probs.pointer
    losses.withUnsafeMutableBufferPointer { lb in
        let l = lb.baseAddress!
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, 16_384 / Swift.max(v, 1))) { r in
            for row in r {
                let lse = Softmax.row(lp + row * v, pp + row * v, v)
                let t = targets[row]
                l[row] = t == ignoreIndex ? 0 : lse - lp[row * v + t]
            }
        }
    }
    let active = targets.filter { $0 != ignoreIndex }.count
    let denominator = Float(Swift.max(active, 1))
    let out = Tensor(scalar: losses.reduce(0, +) / denominator)
    return out.recorded("crossEntropy", [logits]) { g in
        let dx = Tensor(uninitialized: logits.shape)
        let scale = g.pointer[0] / denominator
        let dp = dx.pointer, pp = probs.pointer
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, 16_384 / Swift.max(v, 1))) { r in
            for row in r {
                let t = targets[row]
                if t == ignoreIndex {
                    (dp + row * v).update(repeating: 0, count: v)
                    continue
                }
                for j in 0..<v { dp[row * v + j] = pp[row * v + j] * scale }
                dp[row * v + t] -= scale
            }
        }
        return [dx]
    }
}

/// Mean binary cross-entropy of `logits` against `targets` in [0, 1] (same shape), from the logits as PyTorch's
/// `binary_cross_entropy_with_logits`: softplus(x) − y·x, stable for large |x|.
public func binaryCrossEntropy(logits: Tensor, targets: Tensor) throws -> Tensor {
    guard logits.shape == targets.shape else {
        throw TensorError.shapeMismatch(
            op: "binaryCrossEntropy",
            detail: "logits \(shapeString(logits.shape)) vs targets \(shapeString(targets.shape))")
    }
    return try (logits.softplus() - logits * targets).mean()
}

/// Mean of (a − b)² over all elements (shapes broadcast).
public func mseLoss(_ a: Tensor, _ b: Tensor) throws -> Tensor { try (a - b).square().mean() }

/// Cosine similarity along `axis`: a·b / sqrt(max(‖a‖²‖b‖², eps²)), as `torch.nn.functional.cosine_similarity`.
public func cosineSimilarity(_ a: Tensor, _ b: Tensor, axis: Int = -1, eps: Float = 1e-8) throws -> Tensor {
    let dot = try (a * b).sum(axis: axis)
    let norms = try a.square().sum(axis: axis) * b.square().sum(axis: axis)
    return try dot * norms.clampMin(eps * eps).rsqrt()
}

extension Tensor {
    /// Inverted dropout: zeroes each element with probability `p` and scales survivors by 1/(1 − p).
    /// Identity when not `training` or `p == 0`. The mask is drawn serially from `rng` (deterministic).
    public func dropout(_ p: Float, training: Bool, rng: inout RNG) throws -> Tensor {
        guard (0..<1).contains(p) else {
            throw TensorError.invalidArgument(op: "dropout", detail: "p = \(p) outside [0, 1)")
        }
        guard training, p > 0 else { return self }
        let mask = Tensor(uninitialized: shape)
        let keep = 1 / (1 - p)
        for i in 0..<count { mask.pointer[i] = rng.uniform() < p ? 0 : keep }
        return try self * mask
    }
}
