import Foundation
import XCTest

/// What one run of the `reverie` binary produced.
struct CommandResult: CustomStringConvertible {
    let arguments: [String]
    let status: Int32
    /// True if the process ended by a signal (then `status` is the signal number), as after a crash.
    let wasSignalled: Bool
    let stdout: String
    let stderr: String

    var succeeded: Bool { !wasSignalled && status == 0 }

    /// Everything about the run, for failure messages.
    var description: String {
        let ending = wasSignalled ? "killed by signal \(status)" : "exit status \(status)"
        return
            "reverie \(arguments.joined(separator: " ")) → \(ending)\n--- stdout ---\n\(stdout)--- stderr ---\n\(stderr)"
    }
}

/// The `reverie` executable that SwiftPM built beside the test bundle, and a way to run it.
enum ReverieBinary {
    static let name = "reverie"

    /// Set `REVERIE_BINARY=/path/to/reverie` to test another build (a release build, an installed copy).
    static let overrideVariable = "REVERIE_BINARY"

    /// The binary's location, or a message saying where it was looked for.
    static let location: Result<URL, LocateError> = locate()

    struct LocateError: Error, CustomStringConvertible {
        let description: String
    }

    /// The built binary; fails the calling test with a clear message if it cannot be found.
    static func url(file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        switch location {
        case .success(let url):
            return url
        case .failure(let error):
            XCTFail(error.description, file: file, line: line)
            throw error
        }
    }

    /// Directories that may be SwiftPM's products directory (`.build/<triple>/debug`), most specific first.
    ///
    /// - On Linux the test bundle is itself an executable, `<products>/ReveriePackageTests.xctest`, so the main
    ///   bundle's executable, `/proc/self/exe` and `argv[0]` all point into the products directory.
    /// - On macOS the bundle is a directory `<products>/ReveriePackageTests.xctest` loaded by Xcode's `xctest` tool;
    ///   `Bundle.allBundles` finds it and `Bundle.main` is the tool.
    static func candidateDirectories() -> [URL] {
        var urls: [URL] = []
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            urls.append(bundle.bundleURL.deletingLastPathComponent())
        }
        if let executable = Bundle.main.executableURL {
            urls.append(executable.deletingLastPathComponent())
        }
        urls.append(Bundle.main.bundleURL)
        urls.append(Bundle.main.bundleURL.deletingLastPathComponent())
        #if os(Linux)
            if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
                urls.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
            }
        #endif
        if let argv0 = CommandLine.arguments.first, argv0.contains("/") {
            urls.append(URL(fileURLWithPath: argv0).deletingLastPathComponent())
        }
        // `swift test` runs from the package root; the products directory is .build/debug (a symlink).
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        urls.append(cwd.appendingPathComponent(".build/debug"))

        var seen = Set<String>()
        return urls.map(\.standardizedFileURL).filter { seen.insert($0.path).inserted }
    }

    private static func locate() -> Result<URL, LocateError> {
        let fileManager = FileManager.default
        if let path = ProcessInfo.processInfo.environment[overrideVariable], !path.isEmpty {
            guard fileManager.isExecutableFile(atPath: path) else {
                return .failure(
                    LocateError(
                        description: "\(overrideVariable)=\(path), but that is not an executable file"))
            }
            return .success(URL(fileURLWithPath: path))
        }
        let directories = candidateDirectories()
        for directory in directories {
            let candidate = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                fileManager.isExecutableFile(atPath: candidate.path)
            {
                return .success(candidate)
            }
        }
        return .failure(
            LocateError(
                description: """
                    cannot find the built `\(name)` executable. Looked in:
                    \(directories.map { "  \($0.path)" }.joined(separator: "\n"))
                    Build it first (`swift build --build-tests`, or let `swift test` build it), or set \(overrideVariable) \
                    to its path.
                    """))
    }

    /// Runs the binary with `arguments` (in `currentDirectory`, if given; under `launcher`, such as `mpirun -np 2`, if
    /// given) and returns its status and output, killing it after `timeout` seconds.
    ///
    /// stdin is /dev/null; the environment is the test's, with OpenBLAS held to one thread so that a run does not
    /// compete with the test process for the machine's cores. Other variables (`OPENBLAS_THREAD_TIMEOUT`) are left
    /// as the user has them, so the binary's own start-up handling of them is what runs.
    static func run(
        _ arguments: [String], currentDirectory: URL? = nil, timeout: TimeInterval = 30,
        launcher: [String] = [], program: URL? = nil, file: StaticString = #filePath, line: UInt = #line
    ) throws -> CommandResult {
        let process = Process()
        let binary = try program ?? url(file: file, line: line)
        if let program = launcher.first {  // `mpirun … reverie ARGS`
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = Array(launcher.dropFirst()) + [binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        // Help text wraps at the terminal width; fix it so that the output does not depend on where tests run.
        environment["COLUMNS"] = "120"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice

        let stdoutPipe = Pipe(), stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe

        // Drain both pipes while the process runs, so that a large output cannot fill a pipe and block it.
        let stdoutData = PipeReader(stdoutPipe.fileHandleForReading)
        let stderrData = PipeReader(stderrPipe.fileHandleForReading)

        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        // The parent's copies of the write ends must close, or the readers never see end-of-file.
        try? stdoutPipe.fileHandleForWriting.close()
        try? stderrPipe.fileHandleForWriting.close()

        if exited.wait(timeout: .now() + timeout) == .timedOut {
            // Foundation on Linux can notice the exit late when a grandchild inherited the child's descriptors (a
            // wrapper script's `sleep`), so every wait here is bounded, and `terminationStatus` is read only after
            // the handler ran (reading it while the process counts as running traps).
            process.terminate()
            var ended = exited.wait(timeout: .now() + 2) == .success
            if !ended {
                kill(process.processIdentifier, SIGKILL)
                ended = exited.wait(timeout: .now() + 2) == .success
            }
            let partial = CommandResult(
                arguments: arguments, status: ended ? process.terminationStatus : SIGKILL, wasSignalled: true,
                stdout: stdoutData.finish(waitingAtMost: 1), stderr: stderrData.finish(waitingAtMost: 1))
            let error = TimeoutError(seconds: timeout, result: partial)
            XCTFail(error.description, file: file, line: line)
            throw error
        }
        process.waitUntilExit()
        return CommandResult(
            arguments: arguments, status: process.terminationStatus,
            wasSignalled: process.terminationReason == .uncaughtSignal,
            stdout: stdoutData.finish(), stderr: stderrData.finish())
    }

    struct TimeoutError: Error, CustomStringConvertible {
        let seconds: TimeInterval
        let result: CommandResult
        var description: String { "timed out after \(seconds) s and was killed: \(result)" }
    }
}

/// Reads a pipe on a background thread until end-of-file.
///
/// End-of-file comes when every process holding the write end has closed it; a grandchild that outlives a killed
/// child can hold it open, so `finish` waits only a bounded time and then returns what has arrived.
private final class PipeReader: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                data.append(chunk)
                lock.unlock()
            }
            done.signal()
        }
    }

    /// Waits up to `seconds` for end-of-file and returns what was read, decoded as UTF-8.
    func finish(waitingAtMost seconds: TimeInterval = 5) -> String {
        let complete = done.wait(timeout: .now() + seconds) == .success
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self) + (complete ? "" : "\n[output still open; cut off here]\n")
    }
}
