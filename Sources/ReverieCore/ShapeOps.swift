/// Reshape (a view), permute/transpose (copies), slice, concat, split and stack.
extension Tensor {
    /// The same elements under a new shape; one dimension may be -1. Shares storage.
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        let unknown = newShape.indices.filter { newShape[$0] == -1 }
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        if unknown.count == 1, known > 0, count % known == 0 { resolved[unknown[0]] = count / known }
        guard unknown.count <= 1, resolved.allSatisfy({ $0 >= 0 }), resolved.elementCount == count else {
            throw TensorError.shapeMismatch(op: "reshape", detail: "\(shapeString(shape)) to \(shapeString(newShape))")
        }
        let out = Tensor(storage: storage, shape: resolved, offset: offset)
        let inShape = shape
        return out.recorded("reshape", [self]) { g in [Tensor(storage: g.storage, shape: inShape, offset: g.offset)] }
    }

    /// Reorders dimensions: output dimension i is input dimension `dims[i]`. Copies into a contiguous tensor.
    public func permute(_ dims: [Int]) throws -> Tensor {
        guard dims.count == rank, Set(dims) == Set(0..<rank) else {
            throw TensorError.invalidArgument(
                op: "permute", detail: "\(dims) is not a permutation of \(rank) axes of \(shapeString(shape))")
        }
        if dims == Array(0..<rank) { return self }
        let out = permuteCopy(dims)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, d) in dims.enumerated() { inverse[d] = i }
        return out.recorded("permute", [self]) { g in [g.permuteCopy(inverse)] }
    }

    /// Swaps two dimensions.
    public func transpose(_ a: Int, _ b: Int) throws -> Tensor {
        let x = try normalizeAxis(a, rank: rank, op: "transpose"), y = try normalizeAxis(b, rank: rank, op: "transpose")
        var dims = Array(0..<rank)
        dims.swapAt(x, y)
        return try permute(dims)
    }

    func permuteCopy(_ dims: [Int]) -> Tensor {
        let outShape = dims.map { shape[$0] }
        let out = Tensor(uninitialized: outShape)
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let strides = dims.map { inStrides[$0] }
        let last = outShape.last ?? 1
        let lastStride = strides.last ?? 1
        let rows = last == 0 ? 0 : count / last
        let src = pointer, dst = out.pointer
        // A transpose (the input's contiguous axis lands second to last, as NCHW ↔ tokens × channels): 16 rows at
        // a time, each output column read as one contiguous vector of the input rather than 16 strided floats.
        let tiled = lastStride != 1 && rank >= 2 && strides[rank - 2] == 1
        let inner = tiled ? outShape[rank - 2] : 1
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, 16_384 / Swift.max(last, 1))) { r in
            var row = r.lowerBound
            while row < r.upperBound {
                let base = Broadcast.rowOffset(row, outShape, strides), d = dst + row * last
                if tiled, row % inner + 16 <= inner, row + 16 <= r.upperBound {
                    for j in 0..<last {
                        let v = UnsafeRawPointer(src + base + j * lastStride).loadUnaligned(as: SIMD16<Float>.self)
                        for t in 0..<16 { d[t * last + j] = v[t] }
                    }
                    row += 16
                    continue
                }
                if lastStride == 1 {
                    d.update(from: src + base, count: last)
                } else {
                    for j in 0..<last { d[j] = src[base + j * lastStride] }
                }
                row += 1
            }
        }
        return out
    }

    /// Elements `start..<end` along `axis`. A view when all leading dimensions are 1, otherwise a copy.
    public func slice(axis: Int, start: Int, end: Int) throws -> Tensor {
        let a = try normalizeAxis(axis, rank: rank, op: "slice")
        guard 0 <= start, start <= end, end <= shape[a] else {
            throw TensorError.invalidArgument(
                op: "slice", detail: "range \(start)..<\(end) on axis \(a) of \(shapeString(shape))")
        }
        let (outer, n, inner) = splitAround(shape, axis: a)
        var outShape = shape
        outShape[a] = end - start
        let out: Tensor
        if outer == 1 {
            out = Tensor(storage: storage, shape: outShape, offset: offset + start * inner)
        } else {
            out = Tensor(uninitialized: outShape)
            let len = (end - start) * inner
            Kernels.copyRows(
                outer, length: len, from: pointer + start * inner, stride: n * inner, to: out.pointer, stride: len)
        }
        let inShape = shape
        return out.recorded("slice", [self]) { g in
            // The gradient is g inside the slice and zero around it: each element written once.
            let dx = Tensor(uninitialized: inShape)
            let len = (end - start) * inner, row = n * inner
            Kernels.zeroRows(outer, length: start * inner, at: dx.pointer, stride: row)
            Kernels.copyRows(
                outer, length: len, from: g.pointer, stride: len, to: dx.pointer + start * inner, stride: row)
            Kernels.zeroRows(outer, length: (n - end) * inner, at: dx.pointer + end * inner, stride: row)
            return [dx]
        }
    }

    /// Splits along `axis` into pieces of the given sizes (which must add up to the axis length).
    public func split(_ sizes: [Int], axis: Int) throws -> [Tensor] {
        let a = try normalizeAxis(axis, rank: rank, op: "split")
        guard sizes.reduce(0, +) == shape[a], sizes.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidArgument(
                op: "split", detail: "sizes \(sizes) for axis \(a) of \(shapeString(shape))")
        }
        var start = 0
        return try sizes.map { s in
            defer { start += s }
            return try slice(axis: a, start: start, end: start + s)
        }
    }

    /// Inserts a dimension of size 1 at `axis`.
    public func unsqueeze(_ axis: Int) throws -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        guard a >= 0, a <= rank else {
            throw TensorError.invalidArgument(op: "unsqueeze", detail: "axis \(axis) for rank \(rank)")
        }
        var s = shape
        s.insert(1, at: a)
        return try reshape(s)
    }
}

/// Joins tensors along an existing axis; all other dimensions must match.
public func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
    guard let first = tensors.first else { throw TensorError.invalidArgument(op: "concat", detail: "no tensors") }
    let a = try normalizeAxis(axis, rank: first.rank, op: "concat")
    for t in tensors
    where t.rank != first.rank
        || t.shape.enumerated().contains(where: { $0.offset != a && $0.element != first.shape[$0.offset] })
    {
        throw TensorError.shapeMismatch(
            op: "concat", detail: "\(tensors.map { shapeString($0.shape) }.joined(separator: ", ")) along axis \(a)")
    }
    let sizes = tensors.map { $0.shape[a] }
    var outShape = first.shape
    outShape[a] = sizes.reduce(0, +)
    let (outer, total, inner) = splitAround(outShape, axis: a)
    let out = Tensor(uninitialized: outShape)
    var start = 0
    for (t, s) in zip(tensors, sizes) {
        Kernels.copyRows(
            outer, length: s * inner, from: t.pointer, stride: s * inner, to: out.pointer + start * inner,
            stride: total * inner)
        start += s
    }
    return out.recorded("concat", tensors) { g in
        var start = 0
        return zip(tensors, sizes).map { t, s in
            defer { start += s }
            guard t.requiresGrad else { return nil }
            let d = Tensor(uninitialized: t.shape)
            Kernels.copyRows(
                outer, length: s * inner, from: g.pointer + start * inner, stride: total * inner, to: d.pointer,
                stride: s * inner)
            return d
        }
    }
}

/// Stacks equally shaped tensors along a new axis.
public func stack(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
    guard let first = tensors.first else { throw TensorError.invalidArgument(op: "stack", detail: "no tensors") }
    for t in tensors where t.shape != first.shape {
        throw TensorError.shapeMismatch(
            op: "stack", detail: tensors.map { shapeString($0.shape) }.joined(separator: ", "))
    }
    return try concat(tensors.map { try $0.unsqueeze(axis) }, axis: axis < 0 ? axis : axis)
}
