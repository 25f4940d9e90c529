import Foundation

/// Ends a job whose rank has made no progress for `timeout` seconds. A rank that dies is noticed by mpirun, which
/// ends the others; a rank that hangs (stopped, deadlocked, its host unreachable without a reset) leaves the others
/// blocked in a collective forever, so each rank watches its own progress and aborts the job when it stalls.
public final class Watchdog: @unchecked Sendable {
    public let timeout: Double
    private let lock = NSLock()
    private var last = Date()
    private var stopped = false

    /// Starts watching; `expired` runs on the watchdog's thread with the seconds since the last beat, and must end
    /// the process (typically by `Communicator.abort`).
    public init(timeout: Double, expired: @escaping @Sendable (Double) -> Never) {
        self.timeout = timeout
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: min(1, timeout / 4))
                let (idle, done) = lock.withLock { (Date().timeIntervalSince(last), stopped) }
                if done { return }
                if idle > timeout { expired(idle) }
            }
        }
        thread.name = "reverie-watchdog"
        thread.start()
    }

    /// Records progress (a step finished, a collective returned).
    public func beat() { lock.withLock { last = Date() } }

    /// Stops watching (its thread ends within a second).
    public func stop() { lock.withLock { stopped = true } }
}
