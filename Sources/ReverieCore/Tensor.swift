/// A dense, row-major, Float32 tensor that records the operations applied to it for reverse-mode autodiff.
///
/// Storage is always contiguous from `offset`; `reshape` and leading-axis `slice` are views that share storage.
/// Transposed matmul operands are passed to BLAS as flags rather than copied (see `matmul`).
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let count: Int
    public let storage: TensorStorage
    public let offset: Int

    /// True for a leaf that wants a gradient (a trainable parameter or an input under study).
    public var isLeafRequiringGrad: Bool
    /// Accumulated gradient of a leaf after `backward()`; nil until the first backward pass reaches it.
    public var grad: Tensor?
    /// The operation that produced this tensor, when it was recorded for autodiff.
    var node: GradNode?

    /// Whether gradients flow into or through this tensor.
    public var requiresGrad: Bool {
        get { isLeafRequiringGrad || node != nil }
        set { isLeafRequiringGrad = newValue }
    }

    public init(storage: TensorStorage, shape: [Int], offset: Int = 0, requiresGrad: Bool = false) {
        self.storage = storage
        self.shape = shape
        self.count = shape.elementCount
        self.offset = offset
        self.isLeafRequiringGrad = requiresGrad
        precondition(offset + count <= storage.count, "view exceeds storage")  // invariant: internal construction
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(storage: TensorStorage(count: shape.elementCount), shape: shape, requiresGrad: requiresGrad)
    }

    /// A tensor whose contents the caller writes before use.
    public convenience init(uninitialized shape: [Int]) {
        self.init(storage: TensorStorage(uninitializedCount: shape.elementCount), shape: shape)
    }

    /// A tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(uninitialized: shape)
        storage.base.update(repeating: value, count: count)
        isLeafRequiringGrad = requiresGrad
    }

    /// A tensor holding `data` in row-major order. Throws if `data.count` does not match `shape`.
    public convenience init(shape: [Int], data: [Float], requiresGrad: Bool = false) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidArgument(
                op: "Tensor(shape:data:)", detail: "negative dimension in \(shapeString(shape))")
        }
        guard data.count == shape.elementCount else {
            throw TensorError.shapeMismatch(
                op: "Tensor(shape:data:)", detail: "\(data.count) values for shape \(shapeString(shape))")
        }
        self.init(uninitialized: shape)
        data.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: data.count) }
        isLeafRequiringGrad = requiresGrad
    }

    /// A 0-d tensor (shape `[]`) holding one value.
    public convenience init(scalar: Float) {
        self.init(repeating: scalar, shape: [])
    }

    /// Pointer to the first element of this tensor's contiguous data.
    @inlinable public var pointer: UnsafeMutablePointer<Float> { storage.base + offset }
    /// Read-only view of the elements.
    @inlinable public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }
    /// Mutable view of the elements. Writing through it bypasses autodiff; use for optimizers and loaders.
    @inlinable public var mutableBuffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    public var rank: Int { shape.count }

    /// The elements as an array (row-major).
    public func toArray() -> [Float] { Array(buffer) }

    /// The single value of a one-element tensor.
    public func item() throws -> Float {
        guard count == 1 else {
            throw TensorError.invalidArgument(
                op: "item", detail: "tensor of shape \(shapeString(shape)) has \(count) elements")
        }
        return pointer[0]
    }

    /// Value at a multi-index (for tests and debugging; not for hot loops).
    public subscript(_ index: Int...) -> Float {
        var flat = 0
        for (i, d) in zip(index, shape) { flat = flat * d + i }
        return pointer[flat]
    }

    /// A new tensor with the same values, no autodiff history, and its own storage.
    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.pointer.update(from: pointer, count: count)
        return t
    }

    /// The same values without autodiff history (shares storage).
    public func detached() -> Tensor { Tensor(storage: storage, shape: shape, offset: offset) }

    public var description: String {
        let preview = buffer.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(shapeString(shape))\(requiresGrad ? ", grad" : ""): [\(preview)\(count > 8 ? ", …" : "")])"
    }
}
