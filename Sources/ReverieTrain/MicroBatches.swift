import ReverieCore

/// One micro-batch's share of a step: its loss, its logged terms and its parameters' gradients.
struct MicroBatch {
    var value: Float
    var terms: [(String, Float)]
    var gradients: [ObjectIdentifier: Tensor]
    /// Its gradients went straight into the trainer's all-reduce buckets (`OverlappedReduction`), already summed.
    var overlapped = false
}

extension Trainer {
    /// Runs micro-batch `k` on the data indices `shares[k]` with generator `rngs[k]`, all concurrently (one per
    /// worker thread, BLAS single-threaded), each scaled by 1/`total` (the micro-batches of the whole step, over every
    /// rank). The first error thrown by any micro-batch (in micro-batch order) is rethrown; the parameters' `grad` is
    /// not touched.
    func microBatches(_ shares: [[Int]], rngs: inout [RNG], of total: Int) throws -> [MicroBatch] {
        let n = rngs.count
        var results = [Result<MicroBatch, any Error>?](repeating: nil, count: n)
        let stage = self.stage
        rngs.withUnsafeMutableBufferPointer { gens in
            results.withUnsafeMutableBufferPointer { out in
                ThreadPolicy.parallelItems(n) { k in
                    out[k] = Result {
                        let l = try stage.loss(indices: shares[k], rng: &gens[k])
                        let value = try l.total.item()
                        let seed = Tensor(repeating: 1 / Float(total), shape: l.total.shape)
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
    /// `indices` in `parts` consecutive runs of `indices.count / parts`.
    static func consecutive(_ indices: Range<Int>, parts: Int) -> [[Int]] {
        let size = indices.count / parts
        return (0..<parts).map { k in Array(indices.dropFirst(k * size).prefix(size)) }
    }

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
