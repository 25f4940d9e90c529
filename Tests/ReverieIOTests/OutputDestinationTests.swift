import Foundation
import ReverieCore
import XCTest

@testable import ReverieIO

/// An output named by a device, a FIFO or a directory is refused, and left as it was (the fuzzer's
/// `--out /dev/full` replaced the device with an image, as root).
final class OutputDestinationTests: XCTestCase {
    func testDevicesFIFOsAndDirectoriesAreRefusedAndKept() throws {
        let scratch = try TemporaryDirectory(), dir = scratch.url
        defer { withExtendedLifetime(scratch) {} }
        let fifo = dir.appendingPathComponent("fifo"), folder = dir.appendingPathComponent("folder")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        var targets = [(fifo, "FIFO", S_IFIFO), (folder, "directory", S_IFDIR)]
        let device = dir.appendingPathComponent("full")
        // A character device like /dev/full (1, 7), which only root may make.
        if mknod(device.path, S_IFCHR | 0o600, dev_t(1 << 8 | 7)) == 0 { targets.append((device, "device", S_IFCHR)) }
        let image = try Image(width: 2, height: 2, filledWith: [1, 0, 0])
        let checkpoint = Checkpoint(model: ["w": Tensor(zeros: [2])])
        for (url, kind, mode) in targets {
            XCTAssertThrowsError(try image.writePNG(to: url)) { XCTAssertTrue("\($0)".contains(kind), "\($0)") }
            XCTAssertThrowsError(try checkpoint.write(to: url)) { XCTAssertTrue("\($0)".contains(kind), "\($0)") }
            XCTAssertThrowsError(try SafetensorsFile.write(["w": Tensor(zeros: [2])], to: url)) {
                XCTAssertTrue("\($0)".contains(kind), "\($0)")
            }
            var info = stat()
            XCTAssertEqual(stat(url.path, &info), 0)
            XCTAssertEqual(info.st_mode & S_IFMT, mode, "\(url.path) must be left as it was")
        }
        // A symlink to a regular file, and a new path, are fine.
        let real = dir.appendingPathComponent("real.png"), link = dir.appendingPathComponent("link.png")
        try image.writePNG(to: real)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)
        XCTAssertNoThrow(try image.writePNG(to: link))
        XCTAssertNoThrow(try checkpoint.write(to: dir.appendingPathComponent("new.h5")))
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }, [])
    }
}
