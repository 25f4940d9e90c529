import ReverieCore

/// One measured workload: FLOPs per call, seconds per call, and its share of the sgemm ceiling.
struct BenchResult: Codable {
    var name: String
    var seconds: Double
    var gflops: Double
    /// Median over repeats of (this workload's GFLOP/s ÷ sgemm GFLOP/s measured just before it).
    var fractionOfCeiling: Double?
    var detail: [String: Double] = [:]
}

/// The sgemm ceiling: C = A·B at n³, the machine's best for this project.
struct SGEMMCeiling {
    let n: Int
    let a: Tensor, b: Tensor, c: Tensor
    var flops: Double { 2 * Double(n) * Double(n) * Double(n) }

    init(n: Int = 2048) {
        self.n = n
        var rng = RNG(seed: 1)
        a = Tensor.uniform([n, n], low: -1, high: 1, rng: &rng)
        b = Tensor.uniform([n, n], low: -1, high: 1, rng: &rng)
        c = Tensor(zeros: [n, n])
    }

    func run() {
        GEMM.run(transA: false, transB: false, m: n, n: n, k: n, a: a.pointer, b: b.pointer, c: c.pointer)
    }

    /// Times `body` (of `flops` FLOPs) paired with the ceiling.
    func measure(
        _ name: String, flops: Double, repeats: Int, detail: [String: Double] = [:],
        _ body: () throws -> Void
    ) rethrows -> BenchResult {
        let m = try Timing.paired(repeats: repeats, ceiling: run, body)
        return BenchResult(
            name: name, seconds: m.seconds, gflops: flops / m.seconds * 1e-9,
            fractionOfCeiling: flops / self.flops * m.pairRatio, detail: detail)
    }

    func measureSelf(repeats: Int) -> BenchResult {
        var times: [Double] = []
        run()
        for _ in 0..<Swift.max(1, repeats) { times.append(Timing.seconds(run)) }
        let t = Timing.median(times)
        return BenchResult(name: "sgemm_\(n)", seconds: t, gflops: flops / t * 1e-9, fractionOfCeiling: 1)
    }
}

/// The workloads of `reverie bench core`.
enum CoreBench {
    /// Scaled dot-product attention forward + backward.
    static func attention(
        batch: Int = 32, heads: Int = 4, tokens: Int = 128, headDim: Int = 64, repeats: Int,
        ceiling: SGEMMCeiling
    ) throws -> BenchResult {
        var rng = RNG(seed: 2)
        let shape = [batch, heads, tokens, headDim]
        let q = Tensor.randn(shape, rng: &rng, requiresGrad: true)
        let k = Tensor.randn(shape, rng: &rng, requiresGrad: true)
        let v = Tensor.randn(shape, rng: &rng, requiresGrad: true)
        let seed = Tensor.randn(shape, rng: &rng)
        // Forward: QKᵀ and PV; backward: dV, dP, dQ, dK — six T×T×D products of 2 FLOPs per multiply-add.
        let flops = 12 * Double(batch * heads) * Double(tokens * tokens * headDim)
        return try ceiling.measure(
            "attention_b\(batch)_h\(heads)_t\(tokens)_d\(headDim)_fwd_bwd", flops: flops,
            repeats: repeats
        ) {
            for x in [q, k, v] { x.zeroGrad() }
            try scaledDotProductAttention(q, k, v).backward(seed: seed)
        }
    }
}
