// Gated activations fused into one pass each way: GEGLU (the UNet's feed-forward) and SwiGLU (Llama's MLP). Each
// activation's arithmetic is written once and shared with the plain op, so fused and unfused paths give the same bits.

/// GELU (exact, erf-based).
enum GELUMath {
    @inlinable @inline(__always)
    static func value(_ x: SIMD8<Float>) -> SIMD8<Float> { 0.5 * x * (1 + FastMath.erf(x * 0.707_106_78)) }

    /// d gelu(x) / dx = Φ(x) + x·φ(x).
    @inlinable @inline(__always)
    static func slope(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let cdf = 0.5 * (1 + FastMath.erf(x * 0.707_106_78))
        let pdf = FastMath.exp(-0.5 * x * x) * 0.398_942_28
        return cdf + x * pdf
    }
}

extension Tensor {
    /// GEGLU's gating (diffusers' `GEGLU` after its projection): the last axis holds a value half and a gate half,
    /// and the result is `value ⊙ gelu(gate)`, half as wide.
    ///
    /// One pass each way over the projection's output. Splitting it and multiplying cost two copies forward and,
    /// backward, two zero-filled full-width gradients and their sum, all serial copies on the step's critical path.
    /// The arithmetic is the unfused path's, in the same order, so the values and gradients are the same bits.
    public func gatedGELU() throws -> Tensor {
        guard rank >= 1, shape[rank - 1] % 2 == 0 else {
            throw TensorError.invalidArgument(
                op: "gatedGELU", detail: "the last axis of \(shapeString(shape)) must be even (value and gate halves)")
        }
        let half = shape[rank - 1] / 2
        var outShape = shape
        outShape[rank - 1] = half
        let out = Tensor(uninitialized: outShape)
        let rows = half == 0 ? 0 : count / (2 * half)
        GatedGELUKernels.forward(rows: rows, half: half, x: pointer, out: out.pointer)
        guard shouldRecord(self) else { return out }
        let x = self
        return out.recorded("gatedGELU", [self]) { g in
            let dx = Tensor(uninitialized: x.shape)
            GatedGELUKernels.backward(rows: rows, half: half, x: x.pointer, gradOut: g.pointer, dx: dx.pointer)
            return [dx]
        }
    }
}

/// SiLU: x·σ(x).
enum SiLUMath {
    @inlinable @inline(__always)
    static func value(_ x: SIMD8<Float>) -> SIMD8<Float> { x * FastMath.sigmoid(x) }

    /// g · d silu(x) / dx, in the order the plain op's backward multiplies.
    @inlinable @inline(__always)
    static func backward(_ x: SIMD8<Float>, _ g: SIMD8<Float>) -> SIMD8<Float> {
        let s = FastMath.sigmoid(x)
        return g * s * (1 + x * (1 - s))
    }
}

/// Llama's gated MLP product `silu(gate) ⊙ up` (`LlamaMLP`), one pass forward and one backward (which writes both
/// gradients). The unfused path ran SiLU, the product and their two backward rules as four passes over the
/// hidden activations, with three more tensors of their size. Same arithmetic, same order: the same bits.
public func gatedSiLU(gate: Tensor, up: Tensor) throws -> Tensor {
    guard gate.shape == up.shape else {
        throw TensorError.shapeMismatch(
            op: "gatedSiLU", detail: "gate \(shapeString(gate.shape)) and up \(shapeString(up.shape)) differ")
    }
    let out = Tensor(uninitialized: gate.shape)
    Map.binary(gate.count, gate.pointer, up.pointer, out.pointer) { x, u in SiLUMath.value(x) * u }
    guard shouldRecord(gate, up) else { return out }
    return out.recorded("gatedSiLU", [gate, up]) { g in
        let dGate = gate.requiresGrad ? Tensor(uninitialized: gate.shape) : nil
        let dUp = up.requiresGrad ? Tensor(uninitialized: up.shape) : nil
        let (x, u, gp) = (gate.pointer, up.pointer, g.pointer)
        let (dg, du) = (dGate?.pointer, dUp?.pointer)
        ThreadPolicy.parallelFor(gate.count, grain: Map.grain) { r in
            var i = r.lowerBound
            while i < r.upperBound {
                let n = Swift.min(8, r.upperBound - i)
                let xi = Map.load(x, i, n), gi = Map.load(gp, i, n)
                if let dg { Map.store(SiLUMath.backward(xi, gi * Map.load(u, i, n)), dg, i, n) }
                if let du { Map.store(gi * SiLUMath.value(xi), du, i, n) }
                i += 8
            }
        }
        return [dGate, dUp]
    }
}

enum GatedGELUKernels {
    /// Rows run in parallel above `Map.grain` elements; each row is SIMD over its halves.
    static func eachRow(_ rows: Int, _ half: Int, _ body: (Int) -> Void) {
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, Map.grain / Swift.max(half, 1))) { r in
            for row in r { body(row) }
        }
    }

    static func forward(rows: Int, half: Int, x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        eachRow(rows, half) { row in
            let value = x + row * 2 * half, gate = value + half, y = out + row * half
            var j = 0
            while j < half {
                let n = Swift.min(8, half - j)
                Map.store(Map.load(value, j, n) * GELUMath.value(Map.load(gate, j, n)), y, j, n)
                j += 8
            }
        }
    }

    /// d value = g ⊙ gelu(gate); d gate = (g ⊙ value) ⊙ gelu'(gate): the unfused product's and GELU's rules.
    static func backward(
        rows: Int, half: Int, x: UnsafePointer<Float>, gradOut: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
    ) {
        eachRow(rows, half) { row in
            let value = x + row * 2 * half, gate = value + half, g = gradOut + row * half
            let dValue = dx + row * 2 * half, dGate = dValue + half
            var j = 0
            while j < half {
                let n = Swift.min(8, half - j)
                let v = Map.load(value, j, n), z = Map.load(gate, j, n), gj = Map.load(g, j, n)
                Map.store(gj * GELUMath.value(z), dValue, j, n)
                Map.store(gj * v * GELUMath.slope(z), dGate, j, n)
                j += 8
            }
        }
    }
}
