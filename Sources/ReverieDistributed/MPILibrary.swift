import Foundation

/// Open MPI's C library, loaded at run time (dlopen), so a binary runs as one process where Open MPI is not
/// installed and needs no MPI headers to build. Handles (`MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_SUM`) are the
/// addresses of Open MPI's predefined objects, as its mpi.h defines them.
final class MPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    typealias Allreduce =
        @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle)
        -> Int32
    typealias Request = UnsafeMutableRawPointer?
    typealias Iallreduce =
        @convention(c) (
            UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle, Handle, UnsafeMutablePointer<Request>
        ) -> Int32
    typealias Testall =
        @convention(c) (Int32, UnsafeMutablePointer<Request>, UnsafeMutablePointer<Int32>, UnsafeMutableRawPointer?)
        -> Int32
    typealias Waitall = @convention(c) (Int32, UnsafeMutablePointer<Request>, UnsafeMutableRawPointer?) -> Int32

    let initialized: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let initialize: @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    let finalize: @convention(c) () -> Int32
    let commRank: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let commSize: @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    let allreduce: Allreduce
    /// MPI_Iallreduce: as MPI_Allreduce, returning a request (`MPI_Request` is a pointer in Open MPI).
    let iallreduce: Iallreduce
    /// MPI_Testall / MPI_Waitall over an array of requests, statuses ignored (`MPI_STATUSES_IGNORE` is NULL).
    let testall: Testall
    let waitall: Waitall
    let bcast: @convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle) -> Int32
    let barrier: @convention(c) (Handle) -> Int32
    let abort: @convention(c) (Handle, Int32) -> Int32
    let commWorld: Handle, float: Handle, double: Handle, byte: Handle, sum: Handle

    /// The library names tried in order (Debian's openmpi-bin / libopenmpi3 install the first).
    static let names = ["libmpi.so.40", "libmpi.so"]

    /// Loads Open MPI, or throws naming what is missing.
    init() throws {
        guard let lib = Self.names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_GLOBAL) }).first else {
            throw DistributedError.unavailable(
                "cannot load Open MPI (\(Self.names.joined(separator: ", "))): install openmpi-bin (make deps)")
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let s = dlsym(lib, name) else {
                throw DistributedError.unavailable("Open MPI's library has no \(name): is it Open MPI 4?")
            }
            return s
        }
        func function<F>(_ name: String, _: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: F.self) }
        initialized = try function("MPI_Initialized", (@convention(c) (UnsafeMutablePointer<Int32>) -> Int32).self)
        initialize = try function(
            "MPI_Init", (@convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32).self)
        finalize = try function("MPI_Finalize", (@convention(c) () -> Int32).self)
        commRank = try function("MPI_Comm_rank", (@convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32).self)
        commSize = try function("MPI_Comm_size", (@convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32).self)
        allreduce = try function("MPI_Allreduce", Allreduce.self)
        iallreduce = try function("MPI_Iallreduce", Iallreduce.self)
        testall = try function("MPI_Testall", Testall.self)
        waitall = try function("MPI_Waitall", Waitall.self)
        bcast = try function(
            "MPI_Bcast", (@convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle) -> Int32).self)
        barrier = try function("MPI_Barrier", (@convention(c) (Handle) -> Int32).self)
        abort = try function("MPI_Abort", (@convention(c) (Handle, Int32) -> Int32).self)
        commWorld = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        byte = try symbol("ompi_mpi_byte")
        sum = try symbol("ompi_mpi_op_sum")
    }

    /// `MPI_IN_PLACE` in Open MPI.
    static let inPlace = UnsafeRawPointer(bitPattern: 1)
}
