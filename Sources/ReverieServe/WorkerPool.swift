import Dispatch
import Foundation

/// Runs model requests on a fixed number of worker threads, off the server's event loops, with a bounded wait:
/// when every worker is busy and `queue` requests already wait, the next is refused at once (503 with Retry-After),
/// and a request still waiting after `patience` seconds is refused rather than started late. A started request runs
/// to the end (the model cannot be stopped halfway); the step limit bounds how long that is.
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
        return try await withCheckedThrowingContinuation { continuation in
            threads.async { [self] in
                defer { lock.withLock { admitted -= 1 } }
                guard slots.wait(timeout: .now() + patience) == .success else {
                    continuation.resume(
                        throwing: ServeError(
                            .serviceUnavailable, "the request waited \(Int(patience)) s for a worker", retryAfter: 5))
                    return
                }
                defer { slots.signal() }
                continuation.resume(with: Result { try job() })
            }
        }
    }
}
