import Foundation

/// Layer norm and RMS norm over the last dimension, with fused forward and backward kernels.

/// LayerNorm over the last dimension: `(x − mean) / sqrt(var + eps) · weight + bias` (biased variance).
/// x is [..., D]; weight and bias are [D] or nil.
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
    let d = x.shape.last ?? 0
    for p in [weight, bias].compactMap({ $0 }) where p.shape != [d] {
        throw TensorError.shapeMismatch(op: "layerNorm", detail: "parameter \(shapeString(p.shape)) for input \(shapeString(x.shape))")
    }
    let rows = d == 0 ? 0 : x.count / d
    let xhat = Tensor(uninitialized: x.shape)
    var rstd = [Float](repeating: 0, count: rows)
    let xp = x.pointer, hp = xhat.pointer
    rstd.withUnsafeMutableBufferPointer { rs in
        let rsp = rs.baseAddress!
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, 16_384 / Swift.max(d, 1))) { r in
            for row in r {
                let src = xp + row * d, dst = hp + row * d
                let mean = Kernels.sum(src, count: d) / Float(d)
                var v: Float = 0
                for j in 0..<d { let c = src[j] - mean; v += c * c }
                let s = 1 / (v / Float(d) + eps).squareRoot()
                rsp[row] = s
                for j in 0..<d { dst[j] = (src[j] - mean) * s }
            }
        }
    }
    guard shouldRecord(x) else { return try affine(xhat, weight, bias) }
    // The affine part differentiates through ordinary ops; here x̂'s gradient maps back to x.
    let saved = xhat.detached()
    let normalized = xhat.recorded("layerNorm", [x]) { g in
        let hp = saved.pointer
        let dx = Tensor(uninitialized: x.shape)
        let gp = g.pointer, dp = dx.pointer
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, 16_384 / Swift.max(d, 1))) { r in
            for row in r {
                let gr = gp + row * d, hr = hp + row * d, out = dp + row * d
                let mg = Kernels.sum(gr, count: d) / Float(d)
                let mgh = Kernels.dot(gr, hr, count: d) / Float(d)
                let s = rstd[row]
                for j in 0..<d { out[j] = s * (gr[j] - mg - hr[j] * mgh) }
            }
        }
        return [dx]
    }
    return try affine(normalized, weight, bias)
}

/// RMSNorm over the last dimension: `x / sqrt(mean(x²) + eps) · weight` (Llama, T5). weight is [D] or nil.
public func rmsNorm(_ x: Tensor, weight: Tensor?, eps: Float = 1e-6) throws -> Tensor {
    let d = x.shape.last ?? 0
    if let w = weight, w.shape != [d] {
        throw TensorError.shapeMismatch(op: "rmsNorm", detail: "weight \(shapeString(w.shape)) for input \(shapeString(x.shape))")
    }
    let rows = d == 0 ? 0 : x.count / d
    let xhat = Tensor(uninitialized: x.shape)
    var rstd = [Float](repeating: 0, count: rows)
    let xp = x.pointer, hp = xhat.pointer
    rstd.withUnsafeMutableBufferPointer { rs in
        let rsp = rs.baseAddress!
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, 16_384 / Swift.max(d, 1))) { r in
            for row in r {
                let src = xp + row * d, dst = hp + row * d
                let s = 1 / (Kernels.dot(src, src, count: d) / Float(d) + eps).squareRoot()
                rsp[row] = s
                for j in 0..<d { dst[j] = src[j] * s }
            }
        }
    }
    guard shouldRecord(x) else { return try affine(xhat, weight, nil) }
    let saved = xhat.detached()
    let normalized = xhat.recorded("rmsNorm", [x]) { g in
        let hp = saved.pointer
        let dx = Tensor(uninitialized: x.shape)
        let gp = g.pointer, dp = dx.pointer
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, 16_384 / Swift.max(d, 1))) { r in
            for row in r {
                let gr = gp + row * d, hr = hp + row * d, out = dp + row * d
                let mgh = Kernels.dot(gr, hr, count: d) / Float(d)
                let s = rstd[row]
                for j in 0..<d { out[j] = s * (gr[j] - hr[j] * mgh) }
            }
        }
        return [dx]
    }
    return try affine(normalized, weight, nil)
}

/// `x · weight + bias` with per-last-dimension parameters, skipping absent ones.
private func affine(_ x: Tensor, _ weight: Tensor?, _ bias: Tensor?) throws -> Tensor {
    var y = x
    if let weight { y = try y * weight }
    if let bias { y = try y + bias }
    return y
}
