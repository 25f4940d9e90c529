import ReverieCore

/// All gradients of a set of parameters laid end to end in one contiguous Float buffer, in the parameters' fixed
/// order: the unit a data-parallel all-reduce works on (docs/DESIGN.md §9: one `MPI_Allreduce` per buffer or bucket,
/// not one per tensor).
///
/// Two ways to use it:
/// - copy: `gather()` after backward, reduce `values`, `scatter()` before the optimizer step;
/// - zero-copy: `bind()` before backward makes every parameter's `grad` a view into the buffer, so backward
///   accumulates directly into it; reduce, step, then `zero()` (not `Module.zeroGrad()`, which drops the views
///   and would need another `bind()`).
public final class GradientBuffer {
    /// Where one parameter's gradient lives in the buffer.
    public struct Entry {
        public let key: String
        public let parameter: Tensor
        public let range: Range<Int>
    }

    public let entries: [Entry]
    /// The flat buffer, shape [count].
    public let flat: Tensor

    /// Lays out `parameters` (usually `model.trainableParameters()`) in the order given.
    public init(parameters: [(String, Tensor)]) {
        var entries: [Entry] = []
        var offset = 0
        for (key, p) in parameters {
            entries.append(Entry(key: key, parameter: p, range: offset..<(offset + p.count)))
            offset += p.count
        }
        self.entries = entries
        flat = Tensor(zeros: [offset])
    }

    /// Total number of gradient elements.
    public var count: Int { flat.count }

    /// The buffer's elements, for a reduction library to read and write in place.
    public var values: UnsafeMutableBufferPointer<Float> { flat.mutableBuffer }

    /// Copies every gradient into the buffer (zeros for a parameter without one).
    public func gather() {
        for e in entries {
            let dst = flat.pointer + e.range.lowerBound
            if let g = e.parameter.grad, g.pointer != dst {
                dst.update(from: g.pointer, count: e.range.count)
            } else if e.parameter.grad == nil {
                dst.update(repeating: 0, count: e.range.count)
            }
        }
    }

    /// Copies the buffer back into the gradients, creating those that are missing (after an all-reduce every
    /// rank holds the same gradients, including for parameters this rank did not reach).
    public func scatter() {
        for e in entries {
            let src = flat.pointer + e.range.lowerBound
            if let g = e.parameter.grad, g.count == e.range.count {
                if g.pointer != src { g.pointer.update(from: src, count: e.range.count) }
            } else {
                let g = Tensor(uninitialized: e.parameter.shape)
                g.pointer.update(from: src, count: e.range.count)
                e.parameter.grad = g
            }
        }
    }

    /// Makes each parameter's `grad` a view of its slice of the buffer, keeping current gradient values.
    public func bind() {
        gather()
        for e in entries {
            e.parameter.grad = Tensor(storage: flat.storage, shape: e.parameter.shape, offset: e.range.lowerBound)
        }
    }

    /// Fills the buffer with zeros (with `bind()`, this zeroes every gradient while keeping the views).
    public func zero() { flat.mutableBuffer.update(repeating: 0) }

    /// Multiplies the whole buffer by `factor` (for example 1/worldSize after a summing all-reduce).
    public func scale(by factor: Float) { Kernels.scale(flat.pointer, factor, flat.pointer, count: flat.count) }

    /// Splits the buffer into contiguous ranges of at most `maxElements` (but at least one element each), for
    /// reductions that work in buckets.
    public func buckets(maxElements: Int) -> [Range<Int>] {
        let size = Swift.max(maxElements, 1)
        return stride(from: 0, to: count, by: size).map { $0..<Swift.min($0 + size, count) }
    }
}
