import Foundation

/// A command left running while a test acts on it (kills one of its children, stops one), its stdout and stderr
/// collected in a file.
final class BackgroundJob {
    let process = Process()
    let log: URL
    private let exited = DispatchSemaphore(value: 0)

    init(_ command: [String]) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-job-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        process.terminationHandler = { [exited] _ in exited.signal() }
        try process.run()
        try handle.close()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: log)
    }

    /// Polls `condition` until it holds (true) or `seconds` pass (false).
    func wait(until condition: () -> Bool, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// Waits for the command to end; false if it is still running after `seconds`.
    func waitForExit(seconds: Double) -> Bool { exited.wait(timeout: .now() + seconds) == .success }

    /// Exit status (valid once `waitForExit` returned true).
    var status: Int32 { process.terminationStatus }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// The process ids whose parent is this command (mpirun's ranks on this machine), in increasing order.
    func children() -> [pid_t] {
        let parent = process.processIdentifier
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name),
                let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // /proc/PID/stat: pid (comm) state ppid …; comm may hold spaces, so read after the last ')'.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }.sorted()
    }
}
