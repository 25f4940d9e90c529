/// NumPy-style broadcasting: shapes align on the right; a dimension of 1 stretches to match.
public enum Broadcast {
    /// The shape two operands broadcast to, or a thrown error naming both shapes.
    public static func shape(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let rank = Swift.max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a
        let pb = Array(repeating: 1, count: rank - b.count) + b
        var out = [Int](repeating: 0, count: rank)
        for i in 0..<rank {
            if pa[i] == pb[i] || pb[i] == 1 {
                out[i] = pa[i]
            } else if pa[i] == 1 {
                out[i] = pb[i]
            } else {
                throw TensorError.shapeMismatch(
                    op: op, detail: "\(shapeString(a)) and \(shapeString(b)) do not broadcast")
            }
        }
        return out
    }

    /// Strides of `shape` read as a tensor of `outShape` (0 on stretched dimensions).
    static func strides(of shape: [Int], in outShape: [Int]) -> [Int] {
        let padded = Array(repeating: 1, count: outShape.count - shape.count) + shape
        var strides = [Int](repeating: 0, count: outShape.count)
        var s = 1
        for i in stride(from: outShape.count - 1, through: 0, by: -1) {
            strides[i] = padded[i] == 1 && outShape[i] != 1 ? 0 : s
            s *= padded[i]
        }
        return strides
    }

    /// Offset of row `row` (index over all but the last dimension of `outShape`) under `strides`.
    @inline(__always)
    static func rowOffset(_ row: Int, _ outShape: [Int], _ strides: [Int]) -> Int {
        var rem = row, off = 0
        for d in stride(from: outShape.count - 2, through: 0, by: -1) {
            let i = rem % outShape[d]
            rem /= outShape[d]
            off += i * strides[d]
        }
        return off
    }

    /// Applies `f` over broadcast operands into a fresh tensor of `outShape`.
    static func apply(
        _ a: Tensor, _ b: Tensor, outShape: [Int],
        _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>
    ) -> Tensor {
        let out = Tensor(uninitialized: outShape)
        if a.shape == outShape && b.shape == outShape {
            Map.binary(out.count, a.pointer, b.pointer, out.pointer, f)
            return out
        }
        let sa = strides(of: a.shape, in: outShape), sb = strides(of: b.shape, in: outShape)
        let last = outShape.last ?? 1
        let rows = last == 0 ? 0 : out.count / last
        let stepA = sa.last ?? 0, stepB = sb.last ?? 0
        let ap = a.pointer, bp = b.pointer, op = out.pointer
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, Map.grain / Swift.max(last, 1))) { r in
            for row in r {
                let pa = ap + rowOffset(row, outShape, sa), pb = bp + rowOffset(row, outShape, sb)
                let po = op + row * last
                var i = 0
                while i < last {
                    let n = Swift.min(8, last - i)
                    let va = stepA == 0 ? SIMD8(repeating: pa[0]) : Map.load(pa, i, n)
                    let vb = stepB == 0 ? SIMD8(repeating: pb[0]) : Map.load(pb, i, n)
                    Map.store(f(va, vb), po, i, n)
                    i += 8
                }
            }
        }
        return out
    }

    /// Sums `g` (of a broadcast result's shape) down to `shape`: the gradient of broadcasting.
    static func sumTo(_ g: Tensor, _ shape: [Int]) -> Tensor {
        if g.shape == shape { return g }
        let out = Tensor(zeros: shape)
        let outShape = g.shape
        let st = strides(of: shape, in: outShape)
        let last = outShape.last ?? 1
        let rows = last == 0 ? 0 : g.count / last
        let gp = g.pointer, op = out.pointer
        let step = st.last ?? 0
        for row in 0..<rows {
            let dst = op + rowOffset(row, outShape, st)
            let src = gp + row * last
            if step == 0 {
                dst[0] += Kernels.sum(src, count: last)
            } else {
                Kernels.accumulate(dst, src, count: last)
            }
        }
        return out
    }
}

extension Tensor {
    /// This tensor materialised at a broadcast-compatible larger shape (gradient: sum back).
    public func broadcast(to target: [Int]) throws -> Tensor {
        let outShape = try Broadcast.shape(shape, target, op: "broadcast")
        guard outShape == target else {
            throw TensorError.shapeMismatch(op: "broadcast", detail: "\(shapeString(shape)) to \(shapeString(target))")
        }
        if shape == target { return self }
        let zero = Tensor(zeros: [])
        let out = Broadcast.apply(self, zero, outShape: target) { a, _ in a }
        let inShape = shape
        return out.recorded("broadcast", [self]) { g in [Broadcast.sumTo(g, inShape)] }
    }
}
