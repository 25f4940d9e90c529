import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A time limit on the work of the current thread. Long loops (a token at a time, a denoising step at a time) call
/// ``check()``, which throws ``DeadlineExceeded`` once the limit set by ``run(until:_:)`` on this thread has passed,
/// so a server can stop a request that runs too long between two steps. Without a limit, a check is one thread-local
/// read.
public enum Deadline {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// `body` with the limit `until` (`DispatchTime.now().uptimeNanoseconds` units) on this thread; an outer limit
    /// comes back afterwards.
    public static func run<T>(until limit: UInt64, _ body: () throws -> T) rethrows -> T {
        let outer = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: UInt(max(limit, 1))))
        defer { pthread_setspecific(key, outer) }
        return try body()
    }

    /// Throws once this thread's limit has passed.
    public static func check() throws {
        guard let raw = pthread_getspecific(key) else { return }
        let limit = UInt64(UInt(bitPattern: raw))
        if DispatchTime.now().uptimeNanoseconds > limit { throw DeadlineExceeded() }
    }
}

/// Work stopped by ``Deadline``.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "stopped at its time limit" }
}
