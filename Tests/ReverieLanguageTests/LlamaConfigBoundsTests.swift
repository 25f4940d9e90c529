import Foundation
import ReverieIO
import XCTest

@testable import ReverieLanguage

/// A config.json declaring sizes no machine can hold is refused by key before anything is allocated (the fuzzer's
/// hidden size of 2^40, vocabulary of 2^40, 10^9 layers and intermediate size of 2^62 aborted or trapped).
final class LlamaConfigBoundsTests: XCTestCase {
    let base: [String: Any] = [
        "model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 256, "max_position_embeddings": 128,
    ]

    func config(_ changes: [String: Any]) throws -> LlamaConfig {
        try LlamaConfig(
            huggingFace: HFConfigFile(values: base.merging(changes) { $1 }, url: URL(fileURLWithPath: "c.json")))
    }

    func testHugeSizesAreRefusedByKey() throws {
        XCTAssertNoThrow(try config([:]))
        for (key, value) in [
            ("hidden_size", 1 << 40), ("vocab_size", 1 << 40), ("num_hidden_layers", 1_000_000_000),
            ("intermediate_size", 1 << 62), ("max_position_embeddings", 1 << 40), ("num_attention_heads", 1 << 20),
        ] {
            XCTAssertThrowsError(try config([key: value]), key) { error in
                XCTAssertTrue("\(error)".contains("c.json: key '\(key)'"), "\(error)")
            }
        }
        // Each within bounds, together more than any memory: refused as a whole.
        XCTAssertThrowsError(
            try config([
                "hidden_size": 65536, "intermediate_size": 262_144, "num_hidden_layers": 1024,
                "num_attention_heads": 64, "num_key_value_heads": 64,
            ])
        ) { XCTAssertTrue("\($0)".contains("more than this machine's"), "\($0)") }
    }
}
