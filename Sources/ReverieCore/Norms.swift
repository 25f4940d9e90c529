/// Layer norm and RMS norm over the last dimension, sharing one fused row-normalisation kernel.

/// LayerNorm over the last dimension: `(x − mean) / sqrt(var + eps) · weight + bias` (biased variance).
/// x is [..., D]; weight and bias are [D] or nil.
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
    try checkNormParameters("layerNorm", x, [weight, bias])
    return try affine(normalizeRows(x, eps: eps, center: true), weight, bias)
}

/// RMSNorm over the last dimension: `x / sqrt(mean(x²) + eps) · weight` (Llama, T5). weight is [D] or nil.
public func rmsNorm(_ x: Tensor, weight: Tensor?, eps: Float = 1e-6) throws -> Tensor {
    try checkNormParameters("rmsNorm", x, [weight])
    return try affine(normalizeRows(x, eps: eps, center: false), weight, nil)
}

private func checkNormParameters(_ op: String, _ x: Tensor, _ parameters: [Tensor?]) throws {
    let d = x.shape.last ?? 0
    for p in parameters.compactMap({ $0 }) where p.shape != [d] {
        throw TensorError.shapeMismatch(
            op: op, detail: "parameter \(shapeString(p.shape)) for input \(shapeString(x.shape))")
    }
}

/// x̂ = (x − μ)·s per row of the last dimension, s = 1/sqrt(mean((x − μ)²) + eps); with `center` false, μ = 0
/// (RMS norm). Backward: dx = s·(g − mean(g)·[center] − x̂·mean(g ⊙ x̂)).
private func normalizeRows(_ x: Tensor, eps: Float, center: Bool) -> Tensor {
    let d = x.shape.last ?? 0
    let rows = d == 0 ? 0 : x.count / d
    let grain = Swift.max(1, 16_384 / Swift.max(d, 1))
    let xhat = Tensor(uninitialized: x.shape)
    let scales = Tensor(uninitialized: [rows])
    let (xp, hp, sp) = (x.pointer, xhat.pointer, scales.pointer)
    ThreadPolicy.parallelFor(rows, grain: grain) { r in
        for row in r {
            let src = xp + row * d, dst = hp + row * d
            let mean = center ? Kernels.sum(src, count: d) / Float(d) : 0
            var v: Float = 0
            for j in 0..<d {
                let c = src[j] - mean
                v += c * c
            }
            let s = 1 / (v / Float(d) + eps).squareRoot()
            sp[row] = s
            for j in 0..<d { dst[j] = (src[j] - mean) * s }
        }
    }
    guard shouldRecord(x) else { return xhat }
    let saved = xhat.detached()
    return xhat.recorded(center ? "layerNorm" : "rmsNorm", [x]) { g in
        let dx = Tensor(uninitialized: x.shape)
        let (gp, dp, hp, sp) = (g.pointer, dx.pointer, saved.pointer, scales.pointer)
        ThreadPolicy.parallelFor(rows, grain: grain) { r in
            for row in r {
                let gr = gp + row * d, hr = hp + row * d, out = dp + row * d
                let mg = center ? Kernels.sum(gr, count: d) / Float(d) : 0
                let mgh = Kernels.dot(gr, hr, count: d) / Float(d)
                let s = sp[row]
                for j in 0..<d { out[j] = s * (gr[j] - mg - hr[j] * mgh) }
            }
        }
        return [dx]
    }
}

/// `x · weight + bias` with per-last-dimension parameters, skipping absent ones.
private func affine(_ x: Tensor, _ weight: Tensor?, _ bias: Tensor?) throws -> Tensor {
    var y = x
    if let weight { y = try y * weight }
    if let bias { y = try y + bias }
    return y
}
