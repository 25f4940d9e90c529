import Foundation
import ReverieCore
import ReverieData
import ReverieDistributed

/// How an evaluation's items are split among the ranks of a job (`mpirun … reverie eval` or a stage evaluation in
/// `mpirun … reverie train`) and how the ranks' results meet again. Item `i` goes to rank `i % size`; every rank
/// ends with every item's result, in item order, so whatever is computed from them afterwards is what one process
/// computes. A rank that fails makes every rank throw, rather than leaving the others waiting.
public struct ItemShare: Sendable {
    public let communicator: any Communicator

    public init(communicator: any Communicator) {
        self.communicator = communicator
    }

    /// One process: every item here.
    public static var alone: ItemShare { ItemShare(communicator: SingleProcess()) }

    public var rank: Int { communicator.rank }
    public var size: Int { communicator.size }
    /// Whether this rank writes what the evaluation shows (sample sheets).
    public var isRoot: Bool { rank == 0 }

    /// This rank's items of `0..<count`.
    public func mine(_ count: Int) -> [Int] {
        Array(stride(from: rank, to: max(count, 0), by: size))
    }

    /// This rank's contiguous part of `0..<count` (parts in rank order; their sizes differ by at most one), for work
    /// that runs best as one batch.
    public func part(_ count: Int) -> Range<Int> {
        let count = max(count, 0)
        let (q, r) = count.quotientAndRemainder(dividingBy: size)
        let start = rank * q + min(rank, r)
        return start..<(start + q + (rank < r ? 1 : 0))
    }

    /// `body(i)` for every `i` in `0..<count`, in item order, on every rank: each rank runs its own items
    /// (concurrently when `concurrent`, as `ThreadPolicy.concurrentResults` does, else in order) and the ranks
    /// exchange the results.
    public func results<T: Codable>(_ count: Int, concurrent: Bool = true, _ body: (Int) throws -> T) throws -> [T] {
        let items = mine(count)
        let own: Result<[T], Error> = Result {
            concurrent
                ? try ThreadPolicy.concurrentResults(items.count) { try body(items[$0]) } : try items.map(body)
        }
        guard size > 1 else { return try own.get() }
        let shares = try gather(own)
        var out: [T] = []
        out.reserveCapacity(count)
        for i in 0..<max(count, 0) {
            let share = shares[i % size]
            guard i / size < share.count else {
                throw ItemShareError.missing(item: i, rank: i % size)
            }
            out.append(share[i / size])
        }
        return out
    }

    /// Every rank's `value`, in rank order, on every rank.
    public func gather<T: Codable>(_ value: T) throws -> [T] {
        try gather(Result<T, Error>.success(value))
    }

    /// Every rank's outcome; if any rank failed, every rank throws (the first failure's message, naming its rank).
    func gather<T: Codable>(_ outcome: Result<T, Error>) throws -> [T] {
        guard size > 1 else { return [try outcome.get()] }
        let message: Outcome<T>
        switch outcome {
        case .success(let value): message = Outcome(value: value, failure: nil)
        case .failure(let error): message = Outcome(value: nil, failure: "\(error)")
        }
        let all = try communicator.allGather(JSONEncoder().encode(message)).map {
            try JSONDecoder().decode(Outcome<T>.self, from: $0)
        }
        if case .failure(let error) = outcome { throw error }
        return try all.enumerated().map { rank, m in
            guard let value = m.value else { throw ItemShareError.failed(rank: rank, message: m.failure ?? "") }
            return value
        }
    }

    private struct Outcome<T: Codable>: Codable {
        let value: T?
        let failure: String?
    }
}

/// A shared evaluation that could not be put together.
public enum ItemShareError: Error, CustomStringConvertible {
    case failed(rank: Int, message: String)
    case missing(item: Int, rank: Int)

    public var description: String {
        switch self {
        case let .failed(rank, message): return "the evaluation failed on rank \(rank): \(message)"
        case let .missing(item, rank): return "rank \(rank) sent no result for evaluation item \(item)"
        }
    }
}

extension ShapesSuiteReport {
    /// The report of all items, on every rank, from each rank's report of its share (`ItemShare.mine`).
    public func merged(over share: ItemShare) throws -> ShapesSuiteReport {
        share.size > 1 ? ShapesSuiteReport.merged(try share.gather(self)) : self
    }
}
