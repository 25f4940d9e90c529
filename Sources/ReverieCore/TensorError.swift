/// Errors raised by tensor operations on arguments a caller supplied. Messages name the operation and the shapes.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(op: String, detail: String)
    case invalidArgument(op: String, detail: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, detail): return "\(op): shape mismatch: \(detail)"
        case let .invalidArgument(op, detail): return "\(op): invalid argument: \(detail)"
        }
    }
}

/// Formats a shape the way error messages print it: `[2, 3, 4]`.
@inlinable public func shapeString(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

extension Array where Element == Int {
    /// Number of elements of a tensor with this shape.
    @inlinable public var elementCount: Int { reduce(1, *) }
}

/// Normalises a possibly negative axis against `rank`, throwing if out of range.
@inlinable public func normalizeAxis(_ axis: Int, rank: Int, op: String) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < Swift.max(rank, 1) else {
        throw TensorError.invalidArgument(op: op, detail: "axis \(axis) out of range for rank \(rank)")
    }
    return a
}

/// Splits `shape` around `axis` into (outer, n, inner) so that element (o, i, j) sits at `(o * n + i) * inner + j`.
@inlinable public func splitAround(_ shape: [Int], axis: Int) -> (outer: Int, n: Int, inner: Int) {
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    return (outer, shape[axis], inner)
}
