import Foundation

/// Runs a ``DataLoader`` on a background thread, keeping up to `depth` decoded batches ready so a training step
/// does not wait for images to load.
///
/// The batches come out in exactly the order the wrapped loader makes them, and ``position`` is the loader's
/// position after the last batch handed out (not the last one prefetched), so saving it and restoring a fresh
/// loader resumes exactly. An error from the loader is thrown by the ``next()`` call that would have returned
/// that batch, and ends the stream. The thread stops on ``stop()`` or when the prefetcher is released.
public final class PrefetchingLoader: @unchecked Sendable {
    private let queue: Queue

    /// Starts prefetching from `loader`'s current position.
    public init(_ loader: DataLoader, depth: Int = 2) {
        queue = Queue(loader, depth: max(depth, 1))
        // The thread holds only the queue, so releasing the prefetcher runs `deinit`, which stops the thread.
        let thread = Thread { [queue] in queue.produce() }
        thread.name = "reverie.prefetch"
        thread.start()
    }

    deinit { queue.stop() }

    /// The position after the last batch ``next()`` returned.
    public var position: LoaderPosition { queue.locked { queue.consumedPosition } }

    /// The next batch, waiting for it if the background thread has not finished it yet.
    public func next() throws -> Batch { try queue.take() }

    /// Stops the background thread after the batch it is making.
    public func stop() { queue.stop() }

    /// The state shared by the consumer and the producer thread, guarded by `condition`.
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var loader: DataLoader
        let depth: Int
        var ready: [(Result<Batch, Error>, LoaderPosition)] = []
        var stopped = false
        var producerDone = false
        var consumedPosition: LoaderPosition

        init(_ loader: DataLoader, depth: Int) {
            self.loader = loader
            self.depth = depth
            consumedPosition = loader.position
        }

        func locked<T>(_ body: () throws -> T) rethrows -> T {
            condition.lock()
            defer { condition.unlock() }
            return try body()
        }

        func stop() {
            locked {
                stopped = true
                condition.broadcast()
            }
        }

        func take() throws -> Batch {
            condition.lock()
            defer { condition.unlock() }
            while ready.isEmpty {
                if producerDone || stopped {
                    throw DatasetError.badConfiguration("the prefetching loader was stopped or has failed")
                }
                condition.wait()
            }
            let (result, position) = ready.removeFirst()
            condition.broadcast()
            if case .failure = result { stopped = true }
            consumedPosition = position
            return try result.get()
        }

        func produce() {
            while true {
                condition.lock()
                while ready.count >= depth && !stopped { condition.wait() }
                if stopped {
                    producerDone = true
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                condition.unlock()
                // Loading happens outside the lock, so the consumer can take finished batches meanwhile. Only this
                // thread touches `loader` after `init`.
                let result = Result { try loader.next() }
                condition.lock()
                // A batch finished after a stop is dropped: a stopped stream yields at most `depth` more batches.
                if !stopped { ready.append((result, loader.position)) }
                if case .failure = result { stopped = true }
                condition.broadcast()
                condition.unlock()
            }
        }
    }
}
