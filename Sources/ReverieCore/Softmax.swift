import Foundation

/// Softmax and log-softmax along an axis, numerically stabilised by the row maximum.
extension Tensor {
    public func softmax(axis: Int = -1) throws -> Tensor { try softmaxOp(axis: axis, log: false) }

    public func logSoftmax(axis: Int = -1) throws -> Tensor { try softmaxOp(axis: axis, log: true) }

    /// Softmax (or log-softmax) along `axis`, saving the output for the backward rule.
    private func softmaxOp(axis: Int, log: Bool) throws -> Tensor {
        let name = log ? "logSoftmax" : "softmax"
        let a = try normalizeAxis(axis, rank: rank, op: name)
        let (outer, n, inner) = splitAround(shape, axis: a)
        let out = Tensor(uninitialized: shape)
        Softmax.forward(pointer, out.pointer, outer: outer, n: n, inner: inner, log: log)
        guard shouldRecord(self) else { return out }
        let y = out.detached()
        return out.recorded(name, [self]) { g in
            let dx = Tensor(uninitialized: y.shape)
            Softmax.backward(y.pointer, g.pointer, dx.pointer, outer: outer, n: n, inner: inner, log: log)
            return [dx]
        }
    }
}

/// Row kernels shared by softmax, attention and cross-entropy.
public enum Softmax {
    /// In place or out of place softmax of one contiguous row of `n` values; returns log Σ exp(x − max) + max.
    @inlinable @discardableResult
    public static func row(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        let m = maximum(x, n)
        if m == -.infinity {  // fully masked row: define the output as zeros
            y.update(repeating: 0, count: n)
            return -.infinity
        }
        var acc = SIMD8<Float>()
        var i = 0
        while i < n {
            let c = Swift.min(8, n - i)
            var e = FastMath.exp(Map.load(x, i, c) - m)
            if c < 8 { for j in c..<8 { e[j] = 0 } }
            Map.store(e, y, i, c)
            acc += e
            i += 8
        }
        let s = acc.sum()
        let inv = 1 / s
        i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self) * inv
            UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            y[i] *= inv
            i += 1
        }
        return Foundation.log(s) + m
    }

    /// The largest of `n` values (−∞ for none), eight lanes at a time: a maximum does not depend on the order.
    @inlinable
    static func maximum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            lanes.replace(with: v, where: v .> lanes)  // a compare and a blend; `pointwiseMax` goes lane by lane
            i += 8
        }
        var m = lanes.max()
        while i < n {
            if x[i] > m { m = x[i] }
            i += 1
        }
        return m
    }

    static func forward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int,
        log: Bool
    ) {
        ThreadPolicy.parallelFor(outer * inner, grain: Swift.max(1, 16_384 / Swift.max(n, 1))) { r in
            var tmpIn = [Float](repeating: 0, count: inner == 1 ? 0 : n)
            var tmpOut = tmpIn
            for idx in r {
                let o = idx / inner, j = idx % inner
                if inner == 1 {
                    let lse = row(x + o * n, y + o * n, n)
                    if log { for i in 0..<n { y[o * n + i] = x[o * n + i] - lse } }
                } else {
                    for i in 0..<n { tmpIn[i] = x[(o * n + i) * inner + j] }
                    let lse = row(tmpIn, &tmpOut, n)
                    for i in 0..<n { y[(o * n + i) * inner + j] = log ? tmpIn[i] - lse : tmpOut[i] }
                }
            }
        }
    }

    /// softmax: dx = y ⊙ (g − Σ g⊙y);  log-softmax: dx = g − softmax ⊙ Σ g.
    static func backward(
        _ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
        outer: Int, n: Int, inner: Int, log: Bool
    ) {
        ThreadPolicy.parallelFor(outer * inner, grain: Swift.max(1, 16_384 / Swift.max(n, 1))) { r in
            for idx in r {
                let o = idx / inner, j = idx % inner
                let base = o * n * inner + j
                var s: Float = 0
                if log {
                    for i in 0..<n { s += g[base + i * inner] }
                    for i in 0..<n {
                        let k = base + i * inner
                        dx[k] = g[k] - Foundation.exp(y[k]) * s
                    }
                } else {
                    for i in 0..<n { s += g[base + i * inner] * y[base + i * inner] }
                    for i in 0..<n {
                        let k = base + i * inner
                        dx[k] = y[k] * (g[k] - s)
                    }
                }
            }
        }
    }
}
