/// Sum, mean, max and variance over axes. Each reduces one axis at a time through the (outer, n, inner) view.
extension Tensor {
    /// Sum of all elements, as a 0-d tensor.
    public func sum() -> Tensor {
        let out = Tensor(scalar: Kernels.sum(pointer, count: count))
        let inShape = shape
        return out.recorded("sum", [self]) { g in [Tensor(repeating: g.pointer[0], shape: inShape)] }
    }

    /// Mean of all elements, as a 0-d tensor.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sum over `axes` (negative axes count from the end).
    public func sum(axes: [Int], keepDims: Bool = false) throws -> Tensor {
        let sorted = try Set(axes.map { try normalizeAxis($0, rank: rank, op: "sum") }).sorted(by: >)
        var t = self
        for a in sorted { t = t.sumAxis(a) }
        return keepDims ? t : try t.reshape(shape.enumerated().filter { !sorted.contains($0.offset) }.map(\.element))
    }

    public func sum(axis: Int, keepDims: Bool = false) throws -> Tensor { try sum(axes: [axis], keepDims: keepDims) }

    /// Mean over `axes`.
    public func mean(axes: [Int], keepDims: Bool = false) throws -> Tensor {
        let n = try axes.map { shape[try normalizeAxis($0, rank: rank, op: "mean")] }.reduce(1, *)
        return try sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    public func mean(axis: Int, keepDims: Bool = false) throws -> Tensor { try mean(axes: [axis], keepDims: keepDims) }

    /// Variance over `axes`; `unbiased` divides by n − 1 as `torch.var` does by default.
    public func variance(axes: [Int], unbiased: Bool = true, keepDims: Bool = false) throws -> Tensor {
        let n = try axes.map { shape[try normalizeAxis($0, rank: rank, op: "variance")] }.reduce(1, *)
        let centered = try self - mean(axes: axes, keepDims: true)
        let ss = try centered.square().sum(axes: axes, keepDims: keepDims)
        return ss * (1 / Float(Swift.max(unbiased ? n - 1 : n, 1)))
    }

    /// Maximum over one axis; the gradient goes to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let a = try normalizeAxis(axis, rank: rank, op: "max")
        guard shape[a] > 0 else { throw TensorError.invalidArgument(op: "max", detail: "empty axis \(axis)") }
        let (outer, n, inner) = splitAround(shape, axis: a)
        var outShape = shape
        outShape[a] = 1
        let out = Tensor(uninitialized: outShape)
        var argmax = [Int32](repeating: 0, count: outer * inner)
        let src = pointer, dst = out.pointer
        for o in 0..<outer {
            for j in 0..<inner {
                var best = src[o * n * inner + j], bi = 0
                for i in 1..<n where src[(o * n + i) * inner + j] > best {
                    best = src[(o * n + i) * inner + j]
                    bi = i
                }
                dst[o * inner + j] = best
                argmax[o * inner + j] = Int32(bi)
            }
        }
        let inShape = shape
        out.recorded("max", [self]) { g in
            let dx = Tensor(zeros: inShape)
            for o in 0..<outer {
                for j in 0..<inner {
                    dx.pointer[(o * n + Int(argmax[o * inner + j])) * inner + j] = g.pointer[o * inner + j]
                }
            }
            return [dx]
        }
        if keepDims { return out }
        outShape.remove(at: a)
        return try out.reshape(outShape)
    }

    /// Sum over one (normalised) axis, keeping it as size 1.
    func sumAxis(_ a: Int) -> Tensor {
        let (outer, n, inner) = splitAround(shape, axis: a)
        var outShape = shape
        outShape[a] = 1
        let out = Tensor(zeros: outShape)
        let src = pointer, dst = out.pointer
        if inner == 1 {
            ThreadPolicy.parallelFor(outer, grain: Swift.max(1, 65_536 / Swift.max(n, 1))) { r in
                for o in r { dst[o] = Kernels.sum(src + o * n, count: n) }
            }
        } else {
            ThreadPolicy.parallelFor(outer, grain: Swift.max(1, 65_536 / Swift.max(n * inner, 1))) { r in
                for o in r {
                    let d = dst + o * inner
                    for i in 0..<n {
                        let s = src + (o * n + i) * inner
                        Kernels.accumulate(d, s, count: inner)
                    }
                }
            }
        }
        let inShape = shape
        return out.recorded("sum", [self]) { g in
            [Broadcast.apply(g, Tensor(zeros: []), outShape: inShape) { a, _ in a }]
        }
    }
}
