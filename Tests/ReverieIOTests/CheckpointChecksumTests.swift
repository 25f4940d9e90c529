import Foundation
import ReverieCore
import XCTest

@testable import ReverieIO

/// Every dataset carries HDF5's Fletcher-32 checksum: a bit flipped anywhere in a checkpoint's weight data is an
/// error naming the tensor, never a model that loads with a different weight.
final class CheckpointChecksumTests: XCTestCase {
    func testABitFlipAnywhereInTheWeightsIsDetected() throws {
        let scratch = try TemporaryDirectory(), dir = scratch.url
        defer { withExtendedLifetime(scratch) {} }
        let url = dir.appendingPathComponent("c.h5")
        // Values whose bytes are easy to find in the file: 1.5 is 0x3FC00000 (00 00 C0 3F little-endian).
        var c = Checkpoint(model: ["layers.0.weight": Tensor(repeating: 1.5, shape: [64, 32])])
        c.optimizer = ["layers.0.weight.exp_avg": Tensor(repeating: 1.5, shape: [16])]
        try c.write(to: url)
        let clean = [UInt8](try Data(contentsOf: url))
        let pattern: [UInt8] = [0x00, 0x00, 0xC0, 0x3F]
        let starts = stride(from: 0, to: clean.count - 3, by: 1).filter { Array(clean[$0..<($0 + 4)]) == pattern }
        XCTAssertGreaterThanOrEqual(starts.count, 64 * 32 + 16)
        var rng = RNG(seed: 9)
        for trial in 0..<60 {
            let offset = starts[Int(rng.next() % UInt64(starts.count))] + trial % 4
            var bytes = clean
            bytes[offset] ^= UInt8(1 << (trial % 8))
            let bad = dir.appendingPathComponent("bad-\(trial).h5")
            try Data(bytes).write(to: bad)
            XCTAssertThrowsError(try Checkpoint.read(from: bad), "flip at byte \(offset) went unnoticed") { error in
                XCTAssertTrue("\(error)".contains("checksum"), "\(error)")
                XCTAssertTrue("\(error)".contains("layers.0.weight"), "\(error)")
            }
        }
        XCTAssertEqual(try Checkpoint.read(from: url).model["layers.0.weight"]?.toArray().first, 1.5)
    }

    /// A NaN or infinite weight is refused on load, naming the tensor, unless asked for (inspection).
    func testNonFiniteWeightsAreRefusedNamingTheTensor() throws {
        let scratch = try TemporaryDirectory(), dir = scratch.url
        defer { withExtendedLifetime(scratch) {} }
        let url = dir.appendingPathComponent("nan.h5")
        try Checkpoint(model: [
            "ok": Tensor(zeros: [3]), "bad.bias": try Tensor(shape: [4], data: [0, .nan, 1, .infinity]),
        ])
        .write(to: url)
        XCTAssertThrowsError(try Checkpoint.read(from: url)) { error in
            XCTAssertEqual(
                error as? CheckpointError, .nonFinite(path: url.path, key: "model.bad.bias", count: 2, index: 1))
        }
        XCTAssertEqual(try Checkpoint.read(from: url, allowNonFinite: true).model["bad.bias"]?.count, 4)
    }
}
