import COneDNN
import Foundation

/// Which kernels run `conv2d`'s non-pointwise convolutions.
public enum ConvolutionKernels: String, CaseIterable, Sendable {
    /// oneDNN's (the library PyTorch's CPU convolutions run on), with Reverie's as the fallback.
    case onednn
    /// Reverie's own: im2col or shifted GEMMs on OpenBLAS (`Conv2dKernels`), the reference path.
    case reverie

    /// `REVERIE_CONV_KERNELS` (`onednn` or `reverie`), else oneDNN. Tests and benchmarks set it to compare the two.
    nonisolated(unsafe) public static var current: ConvolutionKernels =
        ProcessInfo.processInfo.environment["REVERIE_CONV_KERNELS"].flatMap(ConvolutionKernels.init) ?? .onednn
}

/// `conv2d` through oneDNN. Reverie splits the batch into chunks fixed by the sizes alone and runs each chunk's
/// primitive on one thread (`ThreadPolicy.parallelItems` over the chunks), summing the chunks' weight gradients in
/// chunk order, so results stay bit-identical for any `REVERIE_THREADS` and OpenMP never starts threads of its own.
/// Any failure of oneDNN (a shape it refuses, memory) returns false and `Conv2dKernels` runs its own path instead.
enum OneDNNConv {
    /// Multiply-adds per chunk below which items are grouped: one call carries fixed costs (weight reorder, setup).
    static let chunkWork = 1 << 24
    /// At most this many chunks, so that each is large enough to run near oneDNN's peak.
    static let mostChunks = 8

    struct Key: Hashable {
        let n, c, h, w, k, kh, kw, sh, sw, ph, pw, pb, pr: Int
    }

    /// Primitives by geometry. A handful per model; dropped wholesale past `cacheLimit` (an unbounded stream of
    /// shapes, as image sizes in a serving process, must not grow memory without end).
    private static let cache = Locked([Key: OpaquePointer]())
    static let cacheLimit = 256
    /// Geometries oneDNN refused to make primitives for: asked once, not on every call (making them costs
    /// milliseconds). Emptied past `cacheLimit` like the cache.
    private static let refused = Locked(Set<Key>())

    /// The chunks of `g.batch` items: equal sizes but for a smaller last one, chosen by the sizes alone.
    static func chunks(_ g: Conv2dGeometry) -> [Range<Int>] {
        guard g.batch > 0 else { return [] }
        let total = g.batch * g.workPerItem
        let count = Swift.max(1, Swift.min(g.batch, mostChunks, total / chunkWork))
        let size = (g.batch + count - 1) / count
        return stride(from: 0, to: g.batch, by: size).map { $0..<Swift.min(g.batch, $0 + size) }
    }

    /// The primitives for `items` items of `g`, made on first use; nil if oneDNN refuses them.
    static func primitives(_ g: Conv2dGeometry, items: Int) -> OpaquePointer? {
        // Right/bottom padding that gives PyTorch's floored output size.
        let pb = (g.outH - 1) * g.strideH + g.kernelH - g.height - g.padH
        let pr = (g.outW - 1) * g.strideW + g.kernelW - g.width - g.padW
        let key = Key(
            n: items, c: g.inChannels, h: g.height, w: g.width, k: g.outChannels, kh: g.kernelH, kw: g.kernelW,
            sh: g.strideH, sw: g.strideW, ph: g.padH, pw: g.padW, pb: pb, pr: pr)
        if let found = cache.withLock({ $0[key] }) { return found }
        if refused.withLock({ $0.contains(key) }) { return nil }
        var error = [CChar](repeating: 0, count: errorSize)
        guard
            let made = reverie_onednn_conv_create(
                Int32(items), Int32(key.c), Int32(key.h), Int32(key.w), Int32(key.k), Int32(key.kh), Int32(key.kw),
                Int32(key.sh), Int32(key.sw), Int32(key.ph), Int32(key.pw), Int32(pb), Int32(pr), &error,
                error.count)
        else {
            refused.withLock { keys in
                if keys.count >= cacheLimit { keys.removeAll() }
                keys.insert(key)
            }
            reportFallback(g, String(cString: error))
            return nil
        }
        return cache.withLock { entries in
            if let raced = entries[key] {  // another thread made it meanwhile
                reverie_onednn_conv_destroy(made)
                return raced
            }
            if entries.count >= cacheLimit {
                // Dropping primitives another thread may be running would free them under it; keep them alive
                // instead (a process that sees hundreds of shapes pays a few kilobytes per shape).
                leaked.append(contentsOf: entries.values)
                entries.removeAll()
            }
            entries[key] = made
            return made
        }
    }
    nonisolated(unsafe) private static var leaked: [OpaquePointer] = []

    /// The kernel oneDNN chose for `g`'s forward pass, for benchmarks and the A/B note.
    static func kernelName(_ g: Conv2dGeometry) -> String? {
        primitives(g, items: chunks(g).first?.count ?? 1).map { String(cString: reverie_onednn_conv_kernel($0)) }
    }

    static let errorSize = 256

    /// Geometries that fell back to Reverie's kernels, with oneDNN's reason: each is said once on standard error,
    /// so a slow run is never a silent one.
    private static let fallbacks = Locked([String: String]())

    static func reportFallback(_ g: Conv2dGeometry, _ reason: String) {
        let shape =
            "[\(g.batch), \(g.inChannels), \(g.height), \(g.width)] * [\(g.outChannels), \(g.inChannels), "
            + "\(g.kernelH), \(g.kernelW)] stride \(g.strideH)×\(g.strideW) padding \(g.padH)×\(g.padW)"
        let first = fallbacks.withLock { seen in
            defer { seen[shape] = reason }
            return seen[shape] == nil
        }
        if first {
            FileHandle.standardError.write(
                Data("reverie: conv2d \(shape) runs on Reverie's kernels: \(reason)\n".utf8))
        }
    }

    /// The geometries that fell back so far and why (for tests and diagnostics).
    static var fallbackReasons: [String: String] { fallbacks.withLock { $0 } }

    /// Runs `call(primitives, chunk index, items, error)` for each of `parts`, the chunks of `g`'s batch (side by
    /// side unless already inside a parallel region); false if oneDNN refused a chunk's shape or any call failed.
    static func eachChunk(
        _ g: Conv2dGeometry, _ parts: [Range<Int>],
        _ call: (OpaquePointer, Int, Range<Int>, UnsafeMutablePointer<CChar>) -> Int32
    ) -> Bool {
        let made = parts.map { primitives(g, items: $0.count) }
        // No chunks for an empty batch, which Reverie's kernels handle.
        guard !parts.isEmpty, made.allSatisfy({ $0 != nil }) else { return false }
        let failure = Locked(String?.none)
        ThreadPolicy.parallelItems(parts.count) { i in
            var error = [CChar](repeating: 0, count: errorSize)
            if call(made[i]!, i, parts[i], &error) != 0 {
                let reason = String(cString: error)
                failure.withLock { $0 = $0 ?? reason }
            }
        }
        guard let reason = failure.withLock({ $0 }) else { return true }
        reportFallback(g, reason)
        return false
    }

    /// out = conv(x, weight) + bias through oneDNN, or false (nothing promised about `out`) if it cannot.
    static func forward(
        _ g: Conv2dGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>
    ) -> Bool {
        let inItem = g.inChannels * g.inPlane, outItem = g.outChannels * g.outPlane
        // The primitives are made with a bias, and some of oneDNN's kernels (its GEMM-based ones for few channels)
        // refuse to run without one: a missing bias is a zero bias.
        let zeros = bias == nil ? [Float](repeating: 0, count: g.outChannels) : []
        return zeros.withUnsafeBufferPointer { zeroBias in
            let bias = bias ?? zeroBias.baseAddress
            return eachChunk(g, chunks(g)) { conv, _, r, error in
                reverie_onednn_conv_forward(
                    conv, x + r.lowerBound * inItem, weight, bias, out + r.lowerBound * outItem, error, errorSize)
            }
        }
    }

    /// dx and dw (either may be nil; both overwritten) through oneDNN, or false if it cannot.
    static func backward(
        _ g: Conv2dGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, gradOut: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?
    ) -> Bool {
        let parts = chunks(g), count = parts.count, total = g.outChannels * g.patchSize
        // One chunk writes dW itself; several write partials, summed below in chunk order.
        let partials = dw != nil && count > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: count * total) : nil
        defer { partials?.deallocate() }
        let inItem = g.inChannels * g.inPlane, outItem = g.outChannels * g.outPlane
        let ok = eachChunk(g, parts) { conv, i, r, error in
            reverie_onednn_conv_backward(
                conv, x + r.lowerBound * inItem, weight, gradOut + r.lowerBound * outItem,
                dx.map { $0 + r.lowerBound * inItem }, partials.map { $0 + i * total } ?? dw, error, errorSize)
        }
        if ok, let dw, let partials {
            ThreadPolicy.parallelFor(total, grain: Swift.max(1, Map.grain / count)) { r in
                let dst = dw + r.lowerBound
                dst.update(from: partials + r.lowerBound, count: r.count)
                for p in 1..<count { Kernels.accumulate(dst, partials + p * total + r.lowerBound, count: r.count) }
            }
        }
        return ok
    }
}
