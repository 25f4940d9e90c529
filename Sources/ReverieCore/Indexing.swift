/// Embedding gather, index-select, and mask-driven selection.

/// Rows of `weight` (`[vocab, dim]`) picked by `ids`; the result has shape `idsShape + [dim]`.
/// The gradient scatter-adds into the picked rows.
public func embedding(_ weight: Tensor, ids: [Int], idsShape: [Int]? = nil) throws -> Tensor {
    guard weight.rank == 2 else {
        throw TensorError.shapeMismatch(
            op: "embedding", detail: "weight must be [vocab, dim], got \(shapeString(weight.shape))")
    }
    let shape = idsShape ?? [ids.count]
    guard shape.elementCount == ids.count else {
        throw TensorError.shapeMismatch(op: "embedding", detail: "\(ids.count) ids for ids shape \(shapeString(shape))")
    }
    return try weight.indexSelect(axis: 0, ids).reshape(shape + [weight.shape[1]])
}

extension Tensor {
    /// Picks entries `indices` along `axis` (repeats allowed). Gradient: scatter-add.
    public func indexSelect(axis: Int, _ indices: [Int]) throws -> Tensor {
        let a = try normalizeAxis(axis, rank: rank, op: "indexSelect")
        let (outer, n, inner) = splitAround(shape, axis: a)
        if let bad = indices.first(where: { $0 < 0 || $0 >= n }) {
            throw TensorError.invalidArgument(
                op: "indexSelect", detail: "index \(bad) out of range 0..<\(n) on axis \(a) of \(shapeString(shape))")
        }
        var outShape = shape
        outShape[a] = indices.count
        let out = Tensor(uninitialized: outShape)
        let k = indices.count
        let src = pointer, dst = out.pointer
        ThreadPolicy.parallelFor(outer * k, grain: Swift.max(1, 16_384 / Swift.max(inner, 1))) { r in
            for idx in r {
                let o = idx / k, i = idx % k
                (dst + idx * inner).update(from: src + (o * n + indices[i]) * inner, count: inner)
            }
        }
        let inShape = shape
        return out.recorded("indexSelect", [self]) { g in
            let dx = Tensor(zeros: inShape)
            let gp = g.pointer, dp = dx.pointer
            // Parallel over the inner dimension so repeated indices never race.
            ThreadPolicy.parallelFor(inner, grain: Swift.max(1, 65_536 / Swift.max(outer * k, 1))) { cols in
                for o in 0..<outer {
                    for i in 0..<k {
                        let d = dp + (o * n + indices[i]) * inner, s = gp + (o * k + i) * inner
                        Kernels.accumulate(d + cols.lowerBound, s + cols.lowerBound, count: cols.count)
                    }
                }
            }
            return [dx]
        }
    }
}

/// `mask ? a : b` elementwise, with `mask` (non-zero = true), `a` and `b` broadcast together.
/// Gradients go to `a` where the mask is set and to `b` elsewhere; the mask gets none.
public func `where`(_ mask: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    let shape = try Broadcast.shape(Broadcast.shape(mask.shape, a.shape, op: "where"), b.shape, op: "where")
    let m = try withNoGrad { try mask.broadcast(to: shape) }
    let (ea, eb) = (try a.broadcast(to: shape), try b.broadcast(to: shape))
    let out = Tensor(uninitialized: shape)
    Map.ternary(out.count, m.pointer, ea.pointer, eb.pointer, out.pointer) { m, x, y in
        y.replacing(with: x, where: m .!= 0)
    }
    return out.recorded("where", [ea, eb]) { g in
        let zero = SIMD8<Float>()
        let ga = Tensor(uninitialized: shape), gb = Tensor(uninitialized: shape)
        Map.binary(out.count, m.pointer, g.pointer, ga.pointer) { m, g in zero.replacing(with: g, where: m .!= 0) }
        Map.binary(out.count, m.pointer, g.pointer, gb.pointer) { m, g in g.replacing(with: zero, where: m .!= 0) }
        return [ga, gb]
    }
}

extension Tensor {
    /// Replaces elements where `mask` is non-zero with `value` (mask broadcasts to this tensor's shape).
    public func maskedFill(_ mask: Tensor, _ value: Float) throws -> Tensor {
        try `where`(mask, Tensor(repeating: value, shape: []), self)
    }
}
