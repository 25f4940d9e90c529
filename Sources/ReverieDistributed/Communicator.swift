import Foundation

/// The processes of one job and the collective operations data-parallel training needs: every process (rank) runs
/// the same program on its share of the data, and gradients are summed across ranks.
public protocol Communicator: AnyObject, Sendable {
    /// This process's index, 0..<size.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }
    /// Replaces `values` on every rank by their elementwise sum over all ranks.
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// Replaces `values` on every rank by their elementwise sum over all ranks (float64: metrics, checksums).
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws
    /// Copies `bytes` from rank `root` to every other rank.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Returns once every rank has called it.
    func barrier() throws
    /// Ends every process of the job (a rank that cannot go on must not leave the others waiting).
    func abort(code: Int32) -> Never
    /// Starts summing `values` over all ranks without waiting (every rank must start the same reductions in the same
    /// order); `values` must stay alive and untouched until `completeStarted()` returns.
    func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// Lets started reductions advance (MPI progresses them only inside its calls); never waits.
    func progressStarted() throws
    /// Waits until every started reduction is done.
    func completeStarted() throws
}

extension Communicator {
    /// By default a started reduction runs at once, to the end.
    public func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws { try allreduceSum(values) }
    public func progressStarted() throws {}
    public func completeStarted() throws {}
}

/// The job of one process: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {}
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
}
