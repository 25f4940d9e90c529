import Foundation

/// The ranks of an `mpirun` job (MPI_COMM_WORLD) through Open MPI. Large buffers are reduced in chunks of at most
/// 2^30 elements, since MPI counts are 32-bit.
public final class MPICommunicator: Communicator, @unchecked Sendable {
    let mpi: MPILibrary
    public let rank: Int
    public let size: Int

    /// Initialises MPI (once per process) and reads this process's rank and the job's size.
    public init() throws {
        mpi = try MPILibrary()
        var flag: Int32 = 0
        try check("MPI_Initialized", mpi.initialized(&flag))
        if flag == 0 { try check("MPI_Init", mpi.initialize(nil, nil)) }
        var r: Int32 = 0, s: Int32 = 0
        try check("MPI_Comm_rank", mpi.commRank(mpi.commWorld, &r))
        try check("MPI_Comm_size", mpi.commSize(mpi.commWorld, &s))
        (rank, size) = (Int(r), Int(s))
    }

    static let chunk = 1 << 30

    func reduce(_ base: UnsafeMutableRawPointer?, count: Int, stride: Int, type: MPILibrary.Handle) throws {
        guard let base else { return }
        var start = 0
        while start < count {
            let n = min(Self.chunk, count - start)
            try check(
                "MPI_Allreduce",
                mpi.allreduce(MPILibrary.inPlace, base + start * stride, Int32(n), type, mpi.sum, mpi.commWorld))
            start += n
        }
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        try reduce(UnsafeMutableRawPointer(values.baseAddress), count: values.count, stride: 4, type: mpi.float)
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        try reduce(UnsafeMutableRawPointer(values.baseAddress), count: values.count, stride: 8, type: mpi.double)
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        var start = 0
        while start < bytes.count {
            let n = min(Self.chunk, bytes.count - start)
            try check(
                "MPI_Bcast", mpi.bcast(bytes.baseAddress! + start, Int32(n), mpi.byte, Int32(root), mpi.commWorld))
            start += n
        }
    }

    public func barrier() throws { try check("MPI_Barrier", mpi.barrier(mpi.commWorld)) }

    public func abort(code: Int32) -> Never {
        _ = mpi.abort(mpi.commWorld, code)
        exit(code)
    }

    /// Requests of reductions started and not yet completed.
    private var started: [MPILibrary.Request] = []

    public func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = values.baseAddress else { return }
        var start = 0
        while start < values.count {
            let n = min(Self.chunk, values.count - start)
            var request: MPILibrary.Request = nil
            try check(
                "MPI_Iallreduce",
                mpi.iallreduce(MPILibrary.inPlace, base + start, Int32(n), mpi.float, mpi.sum, mpi.commWorld, &request))
            started.append(request)
            start += n
        }
    }

    public func progressStarted() throws {
        guard !started.isEmpty else { return }
        var done: Int32 = 0
        try check("MPI_Testall", mpi.testall(Int32(started.count), &started, &done, nil))
        if done != 0 { started.removeAll() }
    }

    public func completeStarted() throws {
        guard !started.isEmpty else { return }
        try check("MPI_Waitall", mpi.waitall(Int32(started.count), &started, nil))
        started.removeAll()
    }

    /// Ends MPI for this process (after the last collective).
    public func finish() { _ = mpi.finalize() }
}

func check(_ name: String, _ code: Int32) throws {
    guard code == 0 else { throw DistributedError.call(name, code: code) }
}
