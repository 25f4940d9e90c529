import ReverieCore
import ReverieNN

extension CoreBench {
    /// Linear(256→1024) + GELU + Linear(1024→256) on [4096, 256]: forward, MSE loss, backward and an AdamW step,
    /// through the same `MLP` module and `AdamW` optimizer a model uses.
    static func mlpBlock(
        rows: Int = 4096, width: Int = 256, hidden: Int = 1024, repeats: Int,
        ceiling: SGEMMCeiling
    ) throws -> BenchResult {
        var rng = RNG(seed: 3)
        let block = try MLP(dim: width, hidden: hidden, activation: .gelu, rng: &rng)
        let optimizer = try AdamW(parameters: block.trainableParameters(), lr: 1e-3, weightDecay: 0.01)
        let x = Tensor.randn([rows, width], rng: &rng)
        let target = Tensor.randn([rows, width], rng: &rng)
        // 2 FLOPs per multiply-add; forward is 2 GEMMs, backward 4 (the 6 · parameters · tokens rule).
        let flops = 6 * 2 * Double(rows) * Double(width) * Double(hidden)
        return try ceiling.measure("mlp_\(width)x\(hidden)_rows\(rows)_fwd_bwd_adamw", flops: flops, repeats: repeats) {
            optimizer.zeroGrad()
            try mseLoss(try block(x), target).backward()
            optimizer.step()
        }
    }
}
