/// Why a multi-process job cannot start or go on.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// Open MPI cannot be loaded or is not what Reverie expects.
    case unavailable(String)
    /// An MPI call returned an error code.
    case call(String, code: Int32)

    public var description: String {
        switch self {
        case let .unavailable(detail): return "distributed training: \(detail)"
        case let .call(name, code): return "distributed training: \(name) failed with MPI error \(code)"
        }
    }
}
