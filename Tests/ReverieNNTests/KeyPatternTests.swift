import XCTest

@testable import ReverieNN

final class KeyPatternTests: XCTestCase {
    func testComponentsRangesAndWildcards() throws {
        let layers = try XCTUnwrap(KeyPattern("llm.model.layers.0-11.*"))
        XCTAssertTrue(layers.matches("llm.model.layers.0.self_attn.q_proj.weight"))
        XCTAssertTrue(layers.matches("llm.model.layers.11.mlp.up_proj.weight"))
        XCTAssertFalse(layers.matches("llm.model.layers.12.mlp.up_proj.weight"))
        XCTAssertFalse(layers.matches("llm.model.layers.x.mlp.up_proj.weight"))
        XCTAssertFalse(layers.matches("llm.model.layers.3"))  // `*` at the end needs something below
        let one = try XCTUnwrap(KeyPattern("llm.model.layers.*.self_attn.q_proj.weight"))
        XCTAssertTrue(one.matches("llm.model.layers.7.self_attn.q_proj.weight"))
        XCTAssertFalse(one.matches("llm.model.layers.7.self_attn.k_proj.weight"))
        XCTAssertFalse(one.matches("llm.model.layers.7.self_attn.q_proj.weight.extra"))
        XCTAssertTrue(
            try XCTUnwrap(KeyPattern("vision_encoder.*")).matches("vision_encoder.embeddings.patch_embedding.weight"))
        XCTAssertFalse(try XCTUnwrap(KeyPattern("vision.*")).matches("vision_encoder.embeddings.weight"))
        for bad in ["", "a..b", ".a", "a.9-3.b"] { XCTAssertNil(KeyPattern(bad), bad) }
    }
}
