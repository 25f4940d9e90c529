import ReverieCore

/// One micro-batch's share of a step: its loss, its logged terms and its parameters' gradients.
struct MicroBatch {
    var value: Float
    var terms: [(String, Float)]
    var gradients: [ObjectIdentifier: Tensor]
}

extension Trainer {
    /// Runs micro-batch `k` of `rngs.count` on its share of data indices `start ..< start + count·batch` (the
    /// stage's `partition`) with generator `rngs[k]`, all concurrently (one per worker thread, BLAS
    /// single-threaded), each scaled by 1/count. The first error thrown by any micro-batch (in micro-batch order) is
    /// rethrown; the parameters' `grad` is not touched.
    func microBatches(from start: Int, rngs: inout [RNG]) throws -> [MicroBatch] {
        let n = rngs.count, batch = recipe.loop.batch
        var results = [Result<MicroBatch, any Error>?](repeating: nil, count: n)
        let stage = self.stage
        let shares = stage.partition(start..<(start + n * batch), parts: n)
        rngs.withUnsafeMutableBufferPointer { gens in
            results.withUnsafeMutableBufferPointer { out in
                ThreadPolicy.parallelItems(n) { k in
                    out[k] = Result {
                        let l = try stage.loss(indices: shares[k], rng: &gens[k])
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

/// How a step's items are shared among micro-batches that run side by side.
enum MicroBatchPartition {
    /// `items` (with their `costs`) in `parts` micro-batches of `items.count / parts` each whose summed costs are
    /// close: the items by decreasing cost (ties by position), each to the cheapest micro-batch not yet full (the
    /// first such on ties). Deterministic; each micro-batch lists its items in their original order.
    static func balanced(_ items: [Int], costs: [Int], parts: Int) -> [[Int]] {
        let size = items.count / parts
        let order = items.indices.sorted { (-costs[$0], $0) < (-costs[$1], $1) }
        var shares = [[Int]](repeating: [], count: parts), sums = [Int](repeating: 0, count: parts)
        for i in order {
            let k = (0..<parts).filter { shares[$0].count < size }.min { (sums[$0], $0) < (sums[$1], $1) }!
            shares[k].append(i)
            sums[k] += costs[i]
        }
        return shares.map { $0.sorted().map { items[$0] } }
    }
}
