import ReverieCore

extension CoreBench {
    /// A 3×3 convolution forward + backward (dx, dW, db) on `parallel` independent batches of `batch` items at once,
    /// as the decoder stage runs its two micro-batches side by side, one per core.
    static func conv3x3(
        batch: Int = 8, parallel: Int = 2, inChannels: Int, outChannels: Int, size: Int,
        repeats: Int, ceiling: SGEMMCeiling
    ) throws -> BenchResult {
        var rng = RNG(seed: 4)
        let xs = (0..<parallel).map { _ in
            Tensor.randn(
                [batch, inChannels, size, size], rng: &rng,
                requiresGrad: true)
        }
        let ws = (0..<parallel).map { _ in
            Tensor.randn(
                [outChannels, inChannels, 3, 3], rng: &rng,
                requiresGrad: true)
        }
        let bs = (0..<parallel).map { _ in Tensor.randn([outChannels], rng: &rng, requiresGrad: true) }
        let seed = Tensor.randn([batch, outChannels, size, size], rng: &rng)
        // Forward, dx and dW: three products of Cout·Cin·9·H·W multiply-adds per item, 2 FLOPs each.
        let flops = 6 * Double(parallel * batch) * Double(outChannels * inChannels * 9 * size * size)
        let name = "conv3x3_\(parallel)x\(batch)_c\(inChannels)to\(outChannels)_\(size)x\(size)_fwd_bwd"
        return try ceiling.measure(name, flops: flops, repeats: repeats) {
            _ = try ThreadPolicy.concurrentResults(parallel) { p in
                for t in [xs[p], ws[p], bs[p]] { t.zeroGrad() }
                try conv2d(xs[p], weight: ws[p], bias: bs[p], padding: 1).backward(seed: seed)
            }
        }
    }
}
