import Dispatch
import Foundation
import ReverieCore
import ReverieData

/// Image loading ahead of the step that needs it: `warm` decodes the named images on a background queue while the
/// current step computes, and `load` hands over a warmed tensor (or decodes one itself). Either way the tensor is the
/// same, so prefetching never changes a run.
public final class PrefetchingImages: ImageLoader, @unchecked Sendable {
    let base: any ImageLoader
    /// At most this many decoded images wait (older ones are dropped first).
    let capacity: Int
    private let lock = NSLock()
    private var ready: [ImageRef: Tensor] = [:]
    private var order: [ImageRef] = []
    private var pending = Set<ImageRef>()
    private let queue = DispatchQueue(label: "reverie.prefetch", qos: .utility)
    /// How many `load`s found their image already decoded (for tests and reports).
    public private(set) var hits = 0

    public init(_ base: any ImageLoader, capacity: Int = 1024) {
        (self.base, self.capacity) = (base, capacity)
    }

    /// Starts decoding `refs` in the background (those not already ready or on their way).
    public func warm(_ refs: [ImageRef]) {
        lock.lock()
        let todo = refs.filter { ready[$0] == nil && pending.insert($0).inserted }
        lock.unlock()
        guard !todo.isEmpty else { return }
        queue.async { [self] in
            for ref in todo {
                let tensor = try? base.load(ref)  // a failure surfaces when `load` asks for it
                lock.lock()
                pending.remove(ref)
                if let tensor {
                    ready[ref] = tensor
                    order.append(ref)
                    while order.count > capacity { ready[order.removeFirst()] = nil }
                }
                lock.unlock()
            }
        }
    }

    public func load(_ ref: ImageRef) throws -> Tensor {
        lock.lock()
        if let tensor = ready.removeValue(forKey: ref) {
            order.removeAll { $0 == ref }
            hits += 1
            lock.unlock()
            return tensor
        }
        lock.unlock()
        return try base.load(ref)
    }

    /// Waits until every image asked for is decoded (tests).
    public func drain() { queue.sync {} }
}
