import ReverieCore

extension CoreBench {
    /// Linear(256→1024) + GELU + Linear(1024→256) on [4096, 256]: forward, backward and an AdamW step.
    static func mlpBlock(rows: Int = 4096, width: Int = 256, hidden: Int = 1024, repeats: Int,
                         ceiling: SGEMMCeiling) throws -> BenchResult {
        var rng = RNG(seed: 3)
        let w1 = Tensor.randn([hidden, width], std: 0.05, rng: &rng, requiresGrad: true)
        let b1 = Tensor(zeros: [hidden], requiresGrad: true)
        let w2 = Tensor.randn([width, hidden], std: 0.05, rng: &rng, requiresGrad: true)
        let b2 = Tensor(zeros: [width], requiresGrad: true)
        let x = Tensor.randn([rows, width], rng: &rng)
        let target = Tensor.randn([rows, width], rng: &rng)
        // 2 FLOPs per multiply-add; forward is 2 GEMMs, backward 4.
        let flops = 6 * 2 * Double(rows) * Double(width) * Double(hidden)
        return try ceiling.measure("mlp_\(width)x\(hidden)_rows\(rows)_fwd_bwd_adamw", flops: flops, repeats: repeats) {
            for p in [w1, b1, w2, b2] { p.zeroGrad() }
            let h = try (matmul(x, w1, transposeB: true) + b1).gelu()
            let y = try matmul(h, w2, transposeB: true) + b2
            try mseLoss(y, target).backward()
        }
    }
}
