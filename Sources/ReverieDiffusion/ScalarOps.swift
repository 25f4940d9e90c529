import ReverieCore

extension Tensor {
    /// Elementwise clamp to [lo, hi] (`torch.clamp`); the gradient passes where the input was inside the range.
    public func clamped(_ lo: Float, _ hi: Float) throws -> Tensor {
        guard lo <= hi else {
            throw TensorError.shapeMismatch(op: "clamped", detail: "lower bound \(lo) exceeds upper bound \(hi)")
        }
        let out = Tensor(uninitialized: shape)
        let (src, dst) = (pointer, out.pointer)
        for i in 0..<count { dst[i] = Swift.min(Swift.max(src[i], lo), hi) }
        guard shouldRecord(self) else { return out }
        let input = self
        return out.recorded("clamped", [self]) { g in
            let dx = Tensor(uninitialized: input.shape)
            let (x, gp, d) = (input.pointer, g.pointer, dx.pointer)
            for i in 0..<input.count { d[i] = x[i] >= lo && x[i] <= hi ? gp[i] : 0 }
            return [dx]
        }
    }
}

extension Tensor {
    /// `self / s` with a true division per element (`Tensor / Float` multiplies by 1/s, which can differ from
    /// PyTorch by an ulp; samplers divide exactly so their trajectories match diffusers bit for bit where possible).
    public func divided(by s: Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let (src, dst) = (pointer, out.pointer)
        for i in 0..<count { dst[i] = src[i] / s }
        guard shouldRecord(self) else { return out }
        return out.recorded("dividedByScalar", [self]) { g in
            let dx = Tensor(uninitialized: g.shape)
            for i in 0..<g.count { dx.pointer[i] = g.pointer[i] / s }
            return [dx]
        }
    }
}
