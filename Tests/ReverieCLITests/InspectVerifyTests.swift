import Foundation
import ReverieCore
import ReverieIO
import XCTest

/// `reverie inspect --verify` reads every tensor back against its checksum.
final class InspectVerifyTests: XCTestCase {
    func testVerifyPassesACleanFileAndNamesTheDamagedTensor() throws {
        let dir = try ScratchDirectory()
        let url = dir.file("c.h5")
        try Checkpoint(model: ["head.weight": Tensor(repeating: 1.5, shape: [8, 8])]).write(to: url)
        let clean = try ReverieBinary.run(["inspect", "--verify", url.path])
        XCTAssertTrue(clean.succeeded, "\(clean)")
        XCTAssertTrue(clean.stdout.contains("1 carry a checksum that matched"), clean.stdout)
        let listing = try ReverieBinary.run(["inspect", url.path])
        XCTAssertTrue(listing.stdout.contains("checksums: 1 of 1 datasets"), listing.stdout)

        var bytes = [UInt8](try Data(contentsOf: url))
        let at = try XCTUnwrap(
            (0..<(bytes.count - 3)).first { Array(bytes[$0..<($0 + 4)]) == [0, 0, 0xC0, 0x3F] })
        bytes[at + 2] ^= 0x10
        try Data(bytes).write(to: url)
        let damaged = try ReverieBinary.run(["inspect", "--verify", url.path])
        XCTAssertFalse(damaged.succeeded)
        XCTAssertTrue(damaged.stderr.contains("head.weight"), damaged.stderr)
        XCTAssertTrue(damaged.stderr.contains("checksum"), damaged.stderr)
    }
}
