import Foundation

/// A run directory belongs to one run at a time: `run.lock` inside it, held with flock(2) while the run lives (the
/// kernel releases it when the process dies, however it dies), records the pid of its holder. Taking it also
/// removes temporary files (`*.tmp-<pid>`) that dead processes left behind.
final class RunDirectoryLock {
    private let descriptor: Int32

    /// Takes the lock, or throws `TrainError.runInUse` naming the holder's pid.
    init(_ directory: URL) throws {
        let path = directory.appendingPathComponent("run.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw TrainError.io(path: path, detail: String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var bytes = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &bytes, bytes.count, 0)
            close(fd)
            let holder =
                n > 0
                ? Int32(String(decoding: bytes[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
                : nil
            throw TrainError.runInUse(directory.path, pid: holder)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        descriptor = fd
        Self.removeStaleTemporaries(in: directory)
    }

    deinit { close(descriptor) }  // closing releases the lock

    /// Deletes `NAME.tmp-PID` and `.NAME.tmp-PID` files whose process no longer exists.
    static func removeStaleTemporaries(in directory: URL) {
        let fm = FileManager.default
        for folder in [directory, directory.appendingPathComponent("samples")] {
            for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] {
                guard let range = name.range(of: ".tmp-", options: .backwards),
                    let pid = Int32(name[range.upperBound...]), pid > 0
                else { continue }
                if kill(pid, 0) != 0, errno == ESRCH { try? fm.removeItem(at: folder.appendingPathComponent(name)) }
            }
        }
    }
}
