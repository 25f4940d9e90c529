import Foundation
import ReverieCore
import ReverieIO
import XCTest

/// Fixtures written by `tools/fixtures/*.py`, found next to this file (no Python at test time).
enum Fixture {
    static func url(_ name: String, file: String = #filePath) -> URL {
        URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    }

    static func read(_ name: String) throws -> Checkpoint {
        try Checkpoint.read(from: url(name))
    }
}

extension Checkpoint {
    /// A reference tensor stored under /state, or a failure naming the fixture key.
    func reference(_ key: String) throws -> Tensor {
        guard let t = state[key] else {
            throw NSError(
                domain: "Fixture", code: 1,
                userInfo: [NSLocalizedDescriptionKey: "fixture has no state.\(key)"])
        }
        return t
    }
}
