import ReverieCore

/// Where a loader is in its data: how many samples it has drawn, and how many from each source. Saving and
/// restoring it (with the same seed, sources and weights) continues the stream exactly.
public struct LoaderPosition: Codable, Equatable, Sendable {
    /// Samples drawn so far.
    public var step: Int
    /// Samples drawn from each source so far; `cursor / count` is that source's epoch.
    public var cursors: [Int]

    public init(step: Int = 0, cursors: [Int]) {
        self.step = step
        self.cursors = cursors
    }

    /// As integers, for a checkpoint's `/state` (`[step, cursor0, cursor1, …]`).
    public var integers: [Int] { [step] + cursors }

    /// Reads ``integers``; throws unless there is one cursor per source and nothing is negative.
    public init(integers: [Int], sources: Int) throws {
        guard integers.count == sources + 1, integers.allSatisfy({ $0 >= 0 }) else {
            throw DatasetError.badConfiguration(
                "loader position \(integers) does not fit \(sources) source(s): need \(sources + 1) counts ≥ 0")
        }
        step = integers[0]
        cursors = Array(integers.dropFirst())
    }
}

/// Draws (source, record) pairs from weighted sources.
///
/// Step `t` picks its source from a generator seeded by (seed, t), in proportion to the weights; each source is
/// read in a shuffled order that depends only on (seed, source, epoch), and a new epoch of a source reshuffles it.
/// The whole stream is a function of the seed and the ``LoaderPosition``.
public struct MixtureSampler: Sendable {
    public let counts: [Int]
    public let weights: [Double]
    public let seed: UInt64
    public private(set) var position: LoaderPosition
    private var orders: [Int: (epoch: Int, order: [Int])] = [:]

    /// `counts[k]` records in source `k`, drawn with probability `weights[k] / Σ weights`.
    public init(counts: [Int], weights: [Double], seed: UInt64) throws {
        guard !counts.isEmpty, counts.count == weights.count else {
            throw DatasetError.badConfiguration("need one weight per source, got \(weights.count) for \(counts.count)")
        }
        guard weights.allSatisfy({ $0 >= 0 && $0.isFinite }), weights.contains(where: { $0 > 0 }) else {
            throw DatasetError.badConfiguration("mixture weights must be finite, ≥ 0, and not all 0: \(weights)")
        }
        for (c, w) in zip(counts, weights) where w > 0 && c == 0 {
            throw DatasetError.badConfiguration("a source with weight \(w) has no records")
        }
        self.counts = counts
        self.weights = weights
        self.seed = seed
        position = LoaderPosition(cursors: Array(repeating: 0, count: counts.count))
    }

    /// Continues from `position` (see ``LoaderPosition``).
    public mutating func restore(_ position: LoaderPosition) throws {
        guard position.cursors.count == counts.count else {
            throw DatasetError.badConfiguration(
                "loader position has \(position.cursors.count) cursors, " + "the mixture \(counts.count) sources")
        }
        self.position = position
    }

    /// The next (source, record index) pair.
    public mutating func next() -> (source: Int, index: Int) {
        var g = RNG(seed: mix(0x5A17_0000 ^ UInt64(position.step)))
        let total = weights.reduce(0, +)
        var u = Double(g.uniform()) * total, k = 0
        while k < weights.count - 1 && (weights[k] == 0 || u >= weights[k]) {
            u -= weights[k]
            k += 1
        }
        while weights[k] == 0 { k -= 1 }  // rounding at the top end: fall back to the last weighted source
        let cursor = position.cursors[k], epoch = cursor / counts[k]
        if orders[k]?.epoch != epoch { orders[k] = (epoch, shuffled(source: k, epoch: epoch)) }
        let index = orders[k]?.order[cursor % counts[k]] ?? cursor % counts[k]
        position.cursors[k] += 1
        position.step += 1
        return (k, index)
    }

    /// The order source `k` is read in during `epoch`: a Fisher–Yates shuffle seeded by (seed, k, epoch).
    public func shuffled(source k: Int, epoch: Int) -> [Int] {
        var g = RNG(seed: mix(UInt64(k) << 40 ^ UInt64(epoch)))
        var order = Array(0..<counts[k])
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(g.next() % UInt64(i + 1)))
        }
        return order
    }

    private func mix(_ x: UInt64) -> UInt64 { (seed &* 0x9E37_79B9_7F4A_7C15) ^ (x &* 0xBF58_476D_1CE4_E5B9) }
}
