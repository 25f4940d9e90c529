import Foundation

/// Elementwise unary ops. Each forward is one SIMD map; each backward rule maps (x, y, dy) to dx.
extension Tensor {
    typealias Rule3 = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>

    /// Applies `f` elementwise and records `df(x, y, dy) -> dx` for autodiff.
    func unaryOp(_ name: String, _ f: (SIMD8<Float>) -> SIMD8<Float>, _ df: @escaping Rule3) -> Tensor {
        let out = Tensor(uninitialized: shape)
        Map.unary(count, pointer, out.pointer, f)
        guard shouldRecord(self) else { return out }
        let x = self, y = out.detached()
        return out.recorded(name, [self]) { g in
            let dx = Tensor(uninitialized: x.shape)
            Map.ternary(x.count, x.pointer, y.pointer, g.pointer, dx.pointer, df)
            return [dx]
        }
    }

    public func neg() -> Tensor { unaryOp("neg", { -$0 }, { _, _, g in -g }) }
    public static prefix func - (x: Tensor) -> Tensor { x.neg() }

    public func exp() -> Tensor { unaryOp("exp", { FastMath.exp($0) }, { _, y, g in g * y }) }

    public func log() -> Tensor {
        let out = Tensor(uninitialized: shape)
        let src = pointer, dst = out.pointer
        ThreadPolicy.parallelFor(count, grain: Map.grain) { r in for i in r { dst[i] = Foundation.log(src[i]) } }
        guard shouldRecord(self) else { return out }
        let x = self
        return out.recorded("log", [self]) { g in
            let dx = Tensor(uninitialized: x.shape)
            Map.binary(x.count, g.pointer, x.pointer, dx.pointer) { g, x in g / x }
            return [dx]
        }
    }

    /// log(1 + eˣ), stable for large |x| (max(x, 0) + log1p(e^−|x|)); its derivative is σ(x), 1/2 at 0.
    public func softplus() -> Tensor {
        let out = Tensor(uninitialized: shape)
        let src = pointer, dst = out.pointer
        ThreadPolicy.parallelFor(count, grain: Map.grain) { r in
            for i in r {
                let x = src[i]
                dst[i] = Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
            }
        }
        guard shouldRecord(self) else { return out }
        let x = self
        return out.recorded("softplus", [self]) { g in
            let dx = Tensor(uninitialized: x.shape)
            Map.binary(x.count, g.pointer, x.pointer, dx.pointer) { g, x in g * FastMath.sigmoid(x) }
            return [dx]
        }
    }

    public func sqrt() -> Tensor { unaryOp("sqrt", { $0.squareRoot() }, { _, y, g in g * 0.5 / y }) }

    public func rsqrt() -> Tensor {
        unaryOp("rsqrt", { 1 / $0.squareRoot() }, { _, y, g in g * -0.5 * y * y * y })
    }

    public func square() -> Tensor { unaryOp("square", { $0 * $0 }, { x, _, g in g * 2 * x }) }

    /// `x ** p` for a scalar exponent (x ≥ 0 unless `p` is an integer).
    public func pow(_ p: Float) -> Tensor {
        if p == 2 { return square() }
        let out = Tensor(uninitialized: shape)
        let src = pointer, dst = out.pointer
        ThreadPolicy.parallelFor(count, grain: Map.grain) { r in for i in r { dst[i] = Foundation.pow(src[i], p) } }
        guard shouldRecord(self) else { return out }
        let x = self
        return out.recorded("pow", [self]) { g in
            let dx = Tensor(uninitialized: x.shape)
            let xp = x.pointer, gp = g.pointer, d = dx.pointer
            ThreadPolicy.parallelFor(x.count, grain: Map.grain) { r in
                for i in r { d[i] = gp[i] * p * Foundation.pow(xp[i], p - 1) }
            }
            return [dx]
        }
    }

    public func abs() -> Tensor {
        unaryOp("abs", { FastMath.abs($0) }, { x, _, g in g.replacing(with: -g, where: x .< 0) })
    }

    public func tanh() -> Tensor { unaryOp("tanh", { FastMath.tanh($0) }, { _, y, g in g * (1 - y * y) }) }

    public func sigmoid() -> Tensor {
        unaryOp("sigmoid", { FastMath.sigmoid($0) }, { _, y, g in g * y * (1 - y) })
    }

    public func relu() -> Tensor {
        unaryOp("relu", { $0.replacing(with: 0, where: $0 .< 0) }, { x, _, g in g.replacing(with: 0, where: x .<= 0) })
    }

    /// GELU, exact: x·Φ(x) (PyTorch `approximate="none"`).
    public func gelu() -> Tensor {
        unaryOp("gelu", GELUMath.value, { x, _, g in g * GELUMath.slope(x) })
    }

    /// GELU with the tanh approximation (PyTorch `approximate="tanh"`, SigLIP's `gelu_pytorch_tanh`).
    public func geluTanh() -> Tensor {
        unaryOp(
            "geluTanh",
            { x in
                0.5 * x * (1 + FastMath.tanh(0.797_884_56 * (x + 0.044_715 * x * x * x)))
            },
            { x, _, g in
                let t = FastMath.tanh(0.797_884_56 * (x + 0.044_715 * x * x * x))
                let du = 0.797_884_56 * (1 + 3 * 0.044_715 * x * x)
                return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
            })
    }

    /// SiLU (swish): x·σ(x).
    public func silu() -> Tensor {
        unaryOp("silu", SiLUMath.value, { x, _, g in SiLUMath.backward(x, g) })
    }

    /// Elementwise max(x, lo): the gradient flows where x > lo.
    public func clampMin(_ lo: Float) -> Tensor {
        unaryOp(
            "clampMin", { $0.replacing(with: lo, where: $0 .< lo) },
            { x, _, g in g.replacing(with: 0, where: x .< lo) })
    }

    // Scalar arithmetic.
    public static func + (x: Tensor, s: Float) -> Tensor { x.unaryOp("addScalar", { $0 + s }, { _, _, g in g }) }
    public static func + (s: Float, x: Tensor) -> Tensor { x + s }
    public static func - (x: Tensor, s: Float) -> Tensor { x + (-s) }
    public static func - (s: Float, x: Tensor) -> Tensor {
        x.unaryOp("rsubScalar", { s - $0 }, { _, _, g in -g })
    }
    public static func * (x: Tensor, s: Float) -> Tensor { x.unaryOp("mulScalar", { $0 * s }, { _, _, g in g * s }) }
    public static func * (s: Float, x: Tensor) -> Tensor { x * s }
    public static func / (x: Tensor, s: Float) -> Tensor { x * (1 / s) }
    public static func / (s: Float, x: Tensor) -> Tensor {
        x.unaryOp("rdivScalar", { s / $0 }, { x, _, g in -g * s / (x * x) })
    }
}
