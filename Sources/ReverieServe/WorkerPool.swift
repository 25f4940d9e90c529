import Dispatch
import Foundation
import ReverieCore

/// Runs model requests on a fixed number of worker threads, off the server's event loops (with more than one, each
/// request keeps to its own core, inside `ThreadPolicy.runningJobsSideBySide`), each within `patience`
/// seconds of its arrival: when every worker is busy and `queue` requests already wait, the next is refused at once
/// (503 with Retry-After); a request still waiting at its limit is refused (503), and one still running is stopped
/// between two tokens or denoising steps (`Deadline`) and answered 504.
public final class WorkerPool: @unchecked Sendable {
    public let workers: Int
    public let queue: Int
    let patience: Double
    private let lock = NSLock()
    private var admitted = 0
    private let slots: DispatchSemaphore
    private let threads = DispatchQueue(label: "reverie.serve.workers", attributes: .concurrent)

    public init(workers: Int, queue: Int, patience: Double) {
        (self.workers, self.queue, self.patience) = (workers, queue, patience)
        slots = DispatchSemaphore(value: workers)
    }

    /// Requests running or waiting now.
    public var load: Int { lock.withLock { admitted } }

    /// `job`'s result, computed on a worker.
    public func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        let admittedNow = lock.withLock { () -> Bool in
            guard admitted < workers + queue else { return false }
            admitted += 1
            return true
        }
        guard admittedNow else {
            throw ServeError(
                .serviceUnavailable, "the server is busy: \(workers + queue) requests are running or waiting",
                retryAfter: 5)
        }
        let limit = DispatchTime.now() + patience
        return try await withCheckedThrowingContinuation { continuation in
            threads.async { [self] in
                defer { lock.withLock { admitted -= 1 } }
                guard slots.wait(timeout: limit) == .success else {
                    continuation.resume(
                        throwing: ServeError(
                            .serviceUnavailable, "the request waited \(Int(patience)) s for a worker", retryAfter: 5))
                    return
                }
                defer { slots.signal() }
                do {
                    let result =
                        workers > 1
                        ? try ThreadPolicy.asOneOfManyJobs { try Deadline.run(until: limit.uptimeNanoseconds, job) }
                        : try Deadline.run(until: limit.uptimeNanoseconds, job)
                    continuation.resume(returning: result)
                } catch is DeadlineExceeded {
                    continuation.resume(
                        throwing: ServeError(
                            .gatewayTimeout, "the request ran past its limit of \(patience) s and was stopped"))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
