import ReverieCore

/// One micro-batch's share of a step: its loss, its logged terms and its parameters' gradients.
struct MicroBatch {
    var value: Float
    var terms: [(String, Float)]
    var gradients: [ObjectIdentifier: Tensor]
}

extension Trainer {
    /// Runs micro-batch `k` of `rngs.count` on data indices `start + k·batch ..<` with generator `rngs[k]`, all
    /// concurrently (one per worker thread, BLAS single-threaded), each scaled by 1/count. The first error thrown by
    /// any micro-batch (in micro-batch order) is rethrown; the parameters' `grad` is not touched.
    func microBatches(from start: Int, rngs: inout [RNG]) throws -> [MicroBatch] {
        let n = rngs.count, batch = recipe.loop.batch
        var results = [Result<MicroBatch, any Error>?](repeating: nil, count: n)
        let stage = self.stage
        rngs.withUnsafeMutableBufferPointer { gens in
            results.withUnsafeMutableBufferPointer { out in
                ThreadPolicy.parallelItems(n) { k in
                    out[k] = Result {
                        let lo = start + k * batch
                        let l = try stage.loss(indices: lo..<(lo + batch), rng: &gens[k])
                        let value = try l.total.item()
                        let seed = Tensor(repeating: 1 / Float(n), shape: l.total.shape)
                        let grads = value.isFinite ? try l.total.leafGradients(seed: seed) : [:]
                        return MicroBatch(value: value, terms: l.terms, gradients: grads)
                    }
                }
            }
        }
        return try results.map { try $0!.get() }
    }
}
