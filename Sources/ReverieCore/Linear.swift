import CBLAS

/// Fused affine map `y = x · weightᵀ + bias` (PyTorch layout: weight [out, in], bias [out]).
///
/// The bias is written into the output rows first and the GEMM accumulates onto it (beta = 1), so there is no
/// separate broadcast pass; `weight` goes to BLAS as transposed, never copied. The bias gradient is one GEMV
/// (column sums of the output gradient).
/// x is [..., in]; returns [..., out].
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
    guard weight.rank == 2, x.rank >= 1, x.shape[x.rank - 1] == weight.shape[1] else {
        throw TensorError.shapeMismatch(
            op: "linear", detail: "input \(shapeString(x.shape)), weight \(shapeString(weight.shape))")
    }
    let (outF, inF) = (weight.shape[0], weight.shape[1])
    if let bias, bias.shape != [outF] {
        throw TensorError.shapeMismatch(
            op: "linear", detail: "bias \(shapeString(bias.shape)) for weight \(shapeString(weight.shape))")
    }
    let rows = x.count / Swift.max(inF, 1)
    let out = Tensor(uninitialized: Array(x.shape.dropLast()) + [outF])
    let op = out.pointer
    if let bias {
        let bp = bias.pointer
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, 65_536 / Swift.max(outF, 1))) { r in
            for row in r { (op + row * outF).update(from: bp, count: outF) }
        }
    }
    GEMM.run(
        transA: false, transB: true, m: rows, n: outF, k: inF, a: x.pointer, b: weight.pointer,
        beta: bias == nil ? 0 : 1, c: op)
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return out.recorded("linear", inputs) { g in
        let gp = g.pointer
        var grads: [Tensor?] = [nil, nil]
        if x.requiresGrad {  // dX = dY · W
            let dx = Tensor(uninitialized: x.shape)
            GEMM.run(transA: false, transB: false, m: rows, n: inF, k: outF, a: gp, b: weight.pointer, c: dx.pointer)
            grads[0] = dx
        }
        if weight.requiresGrad {  // dW = dYᵀ · X
            let dw = Tensor(uninitialized: weight.shape)
            GEMM.run(transA: true, transB: false, m: outF, n: inF, k: rows, a: gp, b: x.pointer, c: dw.pointer)
            grads[1] = dw
        }
        if let bias {
            var db: Tensor?
            if bias.requiresGrad {  // db = dYᵀ · 1
                let d = Tensor(zeros: [outF])
                let ones = Tensor(repeating: 1, shape: [Swift.max(rows, 1)])
                cblas_sgemv(
                    CblasRowMajor, CblasTrans, Int32(rows), Int32(outF), 1, gp, Int32(outF),
                    ones.pointer, 1, 0, d.pointer, 1)
                db = d
            }
            grads.append(db)
        }
        return grads
    }
}
