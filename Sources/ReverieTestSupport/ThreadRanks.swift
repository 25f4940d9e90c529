import Foundation
import ReverieDistributed

/// The ranks of a job as threads of this process: code written for `mpirun` (all-reduces, broadcasts, gathers) runs
/// in a unit test without Open MPI. Every collective is one exchange: each rank hands in its bytes, waits until all
/// have, and reads all of them (sums are taken in rank order, as a deterministic MPI reduction would be).
public final class ThreadRanks: @unchecked Sendable {
    public let size: Int
    private let condition = NSCondition()
    private var slots: [[UInt8]?]
    private var published: [[UInt8]] = []
    private var generation = 0

    public init(size: Int) {
        precondition(size > 0)
        self.size = size
        slots = Array(repeating: nil, count: size)
    }

    /// `body` on `size` threads at once, one per rank; the results in rank order. A rank's error is rethrown after
    /// all have finished (a rank that throws before a collective leaves the others waiting: keep bodies total).
    public func run<T>(_ body: @escaping @Sendable (any Communicator) throws -> T) throws -> [T] {
        let results = Results<T>(size)
        let group = DispatchGroup()
        for rank in 0..<size {
            let communicator = Rank(rank: rank, group: self)
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let outcome = Result { try body(communicator) }
                results.set(rank, outcome)
            }
        }
        group.wait()
        return try results.all()
    }

    /// Every rank's bytes, in rank order, once all ranks have handed theirs in.
    func exchange(rank: Int, _ bytes: [UInt8]) -> [[UInt8]] {
        condition.lock()
        defer { condition.unlock() }
        let round = generation
        slots[rank] = bytes
        if slots.allSatisfy({ $0 != nil }) {
            // The next round cannot complete before every rank (this one's readers included) has read this one.
            published = slots.map { $0! }
            slots = Array(repeating: nil, count: size)
            generation += 1
            condition.broadcast()
        } else {
            while generation == round { condition.wait() }
        }
        return published
    }

    private final class Results<T>: @unchecked Sendable {
        private let lock = NSLock()
        private var outcomes: [Result<T, Error>?]
        init(_ size: Int) { outcomes = Array(repeating: nil, count: size) }
        func set(_ rank: Int, _ outcome: Result<T, Error>) { lock.withLock { outcomes[rank] = outcome } }
        func all() throws -> [T] { try lock.withLock { outcomes }.map { try $0!.get() } }
    }

    private final class Rank: Communicator, @unchecked Sendable {
        let rank: Int
        let group: ThreadRanks
        var size: Int { group.size }
        init(rank: Int, group: ThreadRanks) { (self.rank, self.group) = (rank, group) }

        func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws { sum(values) }
        func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws { sum(values) }

        func sum<V: BinaryFloatingPoint>(_ values: UnsafeMutableBufferPointer<V>) {
            let all = group.exchange(rank: rank, Array(UnsafeRawBufferPointer(values)))
            for i in values.indices { values[i] = 0 }
            for bytes in all {
                bytes.withUnsafeBytes { raw in
                    let other = raw.bindMemory(to: V.self)
                    for i in values.indices { values[i] += other[i] }
                }
            }
        }

        func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
            let all = group.exchange(rank: rank, Array(UnsafeRawBufferPointer(bytes)))
            all[root].withUnsafeBytes { bytes.copyMemory(from: $0) }
        }

        func barrier() throws { _ = group.exchange(rank: rank, []) }

        func abort(code: Int32) -> Never { fatalError("rank \(rank) aborted the job (code \(code))") }  // invariant
    }
}
