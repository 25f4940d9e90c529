import Foundation

/// How this process was started: by `mpirun` (Open MPI sets `OMPI_COMM_WORLD_SIZE` in every rank's environment)
/// or on its own. Without mpirun nothing is loaded and the job is one process.
public enum DistributedLaunch {
    /// The number of ranks mpirun started, or nil outside mpirun.
    public static func launchedSize(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init)
    }

    /// Ranks of this job on this machine (to share its cores between them), 1 outside mpirun.
    public static func localSize(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
    }

    /// The communicator of this process: MPI's world under mpirun, a single process otherwise.
    public static func communicator() throws -> any Communicator {
        guard launchedSize() != nil else { return SingleProcess() }
        return try MPICommunicator()
    }
}
