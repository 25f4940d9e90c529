import CBLAS

/// Owns one 64-byte-aligned buffer of `Float`. Tensors share storages for views (reshape, leading-axis slices).
public final class TensorStorage: @unchecked Sendable {
    /// glibc serves blocks above its mmap threshold (at most 32 MB) with fresh mmaps, so every large activation
    /// would page-fault its way in on each training step. Raising the mmap and trim thresholds makes freed
    /// blocks go back to the heap, where the next step's allocations of the same sizes reuse them (the kernel's
    /// page clearing: 3.9 % of a decoder step's `perf` samples with the threshold glibc had refused, 1.3 % now).
    private static let allocatorConfigured: Bool = {
        reverie_keep_large_blocks()
        return true
    }()

    public let count: Int
    public let base: UnsafeMutablePointer<Float>

    /// Bytes this process holds from malloc right now (0 where the C library cannot say): what a measurement of a
    /// step's memory compares before and after.
    public static var heapBytesInUse: Int { Int(reverie_heap_in_use()) }

    /// Allocates `count` floats, zero-filled.
    public init(count: Int) {
        _ = Self.allocatorConfigured
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        Kernels.zero(base, count: max(count, 1))  // both cores for large buffers (the step's gradient buffers)
    }

    /// Allocates without zeroing; the caller overwrites every element.
    public init(uninitializedCount count: Int) {
        _ = Self.allocatorConfigured
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}
