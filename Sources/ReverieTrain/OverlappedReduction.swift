import ReverieCore
import ReverieDistributed
import ReverieNN

/// Sums a step's gradients over the ranks while backward is still running: the flat gradient buffer is cut into
/// buckets, each gradient is copied into its place as soon as backward finishes it, and a bucket whose gradients are
/// all in starts its non-blocking all-reduce (`MPI_Iallreduce`) at once, so the reduction of the last layers (which
/// backward finishes first) runs behind the computation of the first.
///
/// Collectives must start in the same order on every rank, whatever order backward finishes the gradients in (it
/// may differ where the ranks' data take different paths through the model), so buckets start in one fixed order
/// — from the end of the buffer, where backward begins — and a bucket waits for those after it. Gradients that
/// backward never reaches are zero, filled in by `finish`.
final class OverlappedReduction {
    let buffer: GradientBuffer
    let communicator: any Communicator
    let bucketSize: Int
    let bucketCount: Int
    private let entryIndex: [ObjectIdentifier: Int]
    private var remaining: [Int] = []
    private var delivered: [Bool] = []
    /// The next bucket to start, counting down; -1 once every bucket has started.
    private var next = -1

    init(buffer: GradientBuffer, communicator: any Communicator, bucketElements: Int) {
        self.buffer = buffer
        self.communicator = communicator
        bucketSize = max(1, bucketElements)
        bucketCount = (buffer.count + bucketSize - 1) / bucketSize
        var index: [ObjectIdentifier: Int] = [:]
        for (i, e) in buffer.entries.enumerated() { index[ObjectIdentifier(e.parameter)] = i }
        entryIndex = index
    }

    func bucket(_ k: Int) -> Range<Int> { (k * bucketSize)..<min((k + 1) * bucketSize, buffer.count) }

    /// Starts a step: no gradient in yet.
    func begin() {
        remaining = (0..<bucketCount).map { bucket($0).count }
        delivered = [Bool](repeating: false, count: buffer.entries.count)
        next = bucketCount - 1
    }

    /// Takes backward's final gradient of `leaf` (ignored unless it is a trained parameter), starting every bucket
    /// it completes.
    func deliver(_ leaf: Tensor, _ gradient: Tensor) throws {
        guard let i = entryIndex[ObjectIdentifier(leaf)], !delivered[i] else { return }
        let range = buffer.entries[i].range
        (buffer.flat.pointer + range.lowerBound).update(from: gradient.pointer, count: range.count)
        arrived(i)
        try startCompleted()
        try communicator.progressStarted()
    }

    /// Zeroes what backward did not reach, starts the buckets left and waits for all of them; the buffer then holds
    /// the sum over the ranks.
    func finish() throws {
        for i in buffer.entries.indices where !delivered[i] {
            let range = buffer.entries[i].range
            (buffer.flat.pointer + range.lowerBound).update(repeating: 0, count: range.count)
            arrived(i)
        }
        try startCompleted()
        try communicator.completeStarted()
    }

    private func arrived(_ i: Int) {
        delivered[i] = true
        let range = buffer.entries[i].range
        guard !range.isEmpty else { return }
        for k in (range.lowerBound / bucketSize)...((range.upperBound - 1) / bucketSize) {
            remaining[k] -= bucket(k).clamped(to: range).count
        }
    }

    private func startCompleted() throws {
        while next >= 0, remaining[next] == 0 {
            let r = bucket(next)
            try communicator.startAllreduceSum(
                UnsafeMutableBufferPointer(start: buffer.flat.pointer + r.lowerBound, count: r.count))
            next -= 1
        }
    }
}
