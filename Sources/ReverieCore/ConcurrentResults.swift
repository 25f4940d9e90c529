extension ThreadPolicy {
    /// `body(i)` for each of `count` independent items, run as `parallelItems` (concurrently, BLAS on one thread),
    /// returned in item order. If any item throws, the error of the lowest such item is rethrown after all have run.
    public static func concurrentResults<T>(_ count: Int, _ body: (Int) throws -> T) throws -> [T] {
        let n = Swift.max(count, 0)
        let slots = UnsafeMutablePointer<Result<T, Error>?>.allocate(capacity: n)
        slots.initialize(repeating: nil, count: n)
        defer {
            slots.deinitialize(count: n)
            slots.deallocate()
        }
        // Each worker writes only its own slot.
        let shared = SendablePointer(slots)
        parallelItems(n) { i in shared.pointer[i] = Result { try body(i) } }
        return try (0..<n).map { i in
            guard let slot = slots[i] else { preconditionFailure("item \(i) was never run") }
            return try slot.get()
        }
    }
}

/// A pointer handed to concurrent workers that write disjoint elements.
private struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
