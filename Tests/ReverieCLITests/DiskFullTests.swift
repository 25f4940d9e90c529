import Foundation
import ReverieTestSupport
import XCTest

/// Training onto a file system that fills up stops with an error naming the file and the cause, leaves no partial
/// file, and does not crash afterwards (libhdf5's exit handler used to fault on the file whose close had failed).
final class DiskFullTests: XCTestCase {
    func testAFullDiskStopsTrainingCleanly() throws {
        let dir = try ScratchDirectory()
        let mountpoint = dir.url.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: mountpoint, withIntermediateDirectories: true)
        let mount = try BackgroundJob(["/bin/mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", mountpoint.path])
        XCTAssertTrue(mount.waitForExit(seconds: 30))
        guard mount.status == 0 else {
            // Only root may mount; CI runs as root (this machine's `make test` too).
            throw XCTSkip("cannot mount a small tmpfs here: \(mount.output)")
        }
        defer {
            let unmount = try? BackgroundJob(["/bin/umount", mountpoint.path])
            _ = unmount?.waitForExit(seconds: 30)
        }
        let recipe = dir.file("vae.yaml")
        try TinyRecipes.text(
            "vae", root: mountpoint.path, steps: 40, extra: "checkpoint: {every: 2}"
        )
        .replacingOccurrences(of: "channels: [8, 8]", with: "channels: [32, 64]")
        .replacingOccurrences(of: "norm_groups: 4", with: "norm_groups: 8")
        .write(to: recipe, atomically: true, encoding: .utf8)
        let run = try ReverieBinary.run(["train", recipe.path, "--quiet"], timeout: 120)
        XCTAssertFalse(run.succeeded)
        XCTAssertFalse(run.wasSignalled, "crashed after the error: \(run)")
        XCTAssertEqual(run.status, 1, "\(run)")
        XCTAssertTrue(run.stderr.contains("No space left on device"), run.stderr)
        XCTAssertTrue(run.stderr.contains("last.h5"), run.stderr)
        let left = try FileManager.default.contentsOfDirectory(atPath: mountpoint.appendingPathComponent("vae").path)
        XCTAssertFalse(left.contains { $0.contains(".tmp-") }, "\(left)")
    }

    /// A run directory on a read-only file system is an error naming the directory and the reason, not
    /// Foundation's dump of error domains.
    func testAReadOnlyFileSystemIsNamed() throws {
        let dir = try ScratchDirectory()
        let mountpoint = dir.url.appendingPathComponent("readonly")
        try FileManager.default.createDirectory(at: mountpoint, withIntermediateDirectories: true)
        let mount = try BackgroundJob(["/bin/mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", mountpoint.path])
        XCTAssertTrue(mount.waitForExit(seconds: 30))
        guard mount.status == 0 else { throw XCTSkip("cannot mount a tmpfs here: \(mount.output)") }
        defer { _ = (try? BackgroundJob(["/bin/umount", mountpoint.path]))?.waitForExit(seconds: 30) }
        let recipe = dir.file("vae.yaml")
        try TinyRecipes.text("vae", root: mountpoint.path).write(to: recipe, atomically: true, encoding: .utf8)
        let run = try ReverieBinary.run(["train", recipe.path, "--quiet"], timeout: 60)
        XCTAssertEqual(run.status, 1, "\(run)")
        XCTAssertTrue(
            run.stderr.contains("\(mountpoint.path)/vae: cannot create the run directory: Read-only"), run.stderr)
        XCTAssertFalse(run.stderr.contains("NSCocoaErrorDomain"), run.stderr)
    }
}
