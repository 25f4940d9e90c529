import ReverieCore

/// Global L2 norm of the gradients of `parameters` (those without a gradient contribute nothing).
///
/// Squares are summed in Float within fixed 64 Ki-element chunks and the chunks in Double, in parameter order, so
/// the result is the same for any thread count and accurate for billions of elements.
public func gradNorm(_ parameters: [Tensor]) -> Float {
    var total: Double = 0
    for p in parameters {
        guard let g = p.grad else { continue }
        total += sumOfSquares(g.pointer, count: g.count)
    }
    return Float(total.squareRoot())
}

/// Scales all gradients in place so that their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_` does: the factor is `maxNorm / (norm + 1e-6)`, applied only when below 1.
///
/// Returns the norm before clipping. When that norm is not finite nothing is scaled (PyTorch would multiply by
/// NaN); the caller sees the returned value and can skip the step.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    let norm = gradNorm(parameters)
    guard norm.isFinite else { return norm }
    let coefficient = maxNorm / (norm + 1e-6)
    guard coefficient < 1 else { return norm }
    for p in parameters {
        guard let g = p.grad else { continue }
        Kernels.scale(g.pointer, coefficient, g.pointer, count: g.count)
    }
    return norm
}

/// Σ x² over `count` floats, chunked so the order depends only on `count`.
func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
    let chunk = 65_536
    let chunks = (count + chunk - 1) / chunk
    var partial = [Double](repeating: 0, count: chunks)
    partial.withUnsafeMutableBufferPointer { out in
        let o = out.baseAddress!
        ThreadPolicy.parallelFor(chunks, grain: 1) { r in
            for c in r {
                let lo = c * chunk
                o[c] = Double(Kernels.dot(x + lo, x + lo, count: Swift.min(chunk, count - lo)))
            }
        }
    }
    return partial.reduce(0, +)
}
