import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieVision

final class TextTowerTests: XCTestCase {
    static let config = TextTowerConfig(
        vocabSize: 20, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 2,
        numAttentionHeads: 2, maxPositions: 10, projectionDim: 8)

    func testKeysFollowSiglipTextModel() throws {
        var rng = RNG(seed: 1)
        let tower = try TextTower(config: Self.config, rng: &rng)
        let keys = Set(tower.namedParameters().map(\.0))
        for key in [
            "embeddings.token_embedding.weight", "embeddings.position_embedding.weight",
            "encoder.layers.1.self_attn.q_proj.weight", "encoder.layers.0.self_attn.out_proj.bias",
            "encoder.layers.0.layer_norm1.weight", "encoder.layers.1.mlp.fc2.weight",
            "final_layer_norm.weight", "final_layer_norm.bias", "head.weight", "head.bias",
        ] {
            XCTAssertTrue(keys.contains(key), key)
        }
    }

    /// A sequence alone, next to a longer one (so it is padded), and with explicit trailing pad tokens gives the
    /// same embedding.
    func testPaddingDoesNotChangeTheEmbedding() throws {
        var rng = RNG(seed: 2)
        let tower = try TextTower(config: Self.config, rng: &rng)
        let pad = 0, short = [5, 9, 3], long = [7, 1, 2, 8, 4, 6, 11]
        let alone = try withNoGrad { try tower(tokens: [short], padToken: pad) }
        let batched = try withNoGrad { try tower(tokens: [long, short], padToken: pad) }
        let padded = try withNoGrad { try tower(tokens: [short + [pad, pad, pad], long], padToken: pad) }
        XCTAssertEqual(batched.shape, [2, 8])
        assertClose(try batched.slice(axis: 0, start: 1, end: 2).toArray(), alone.toArray(), atol: 1e-5)
        assertClose(try padded.slice(axis: 0, start: 0, end: 1).toArray(), alone.toArray(), atol: 1e-5)
        let longAlone = try withNoGrad { try tower(tokens: [long], padToken: pad) }
        assertClose(try batched.slice(axis: 0, start: 0, end: 1).toArray(), longAlone.toArray(), atol: 1e-5)
        // Pooling reads the last real token: a different last token changes the embedding.
        let other = try withNoGrad { try tower(tokens: [[5, 9, 4]], padToken: pad) }
        XCTAssertGreaterThan(maxAbsDiff(other.toArray(), alone.toArray()), 1e-3)
    }

    func testBadTokenInputThrowsNamingTheSequence() throws {
        var rng = RNG(seed: 3)
        let tower = try TextTower(config: Self.config, rng: &rng)
        func message(_ tokens: [[Int]]) -> String {
            do {
                _ = try tower(tokens: tokens, padToken: 0)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message([[1, 2], []]).contains("sequence 1"), message([[1, 2], []]))
        XCTAssertTrue(message([[1, 2], [0, 0]]).contains("sequence 1"))
        XCTAssertTrue(message([]).contains("empty batch"))
        XCTAssertTrue(message([[1], Array(repeating: 3, count: 11)]).contains("maxPositions"))
        XCTAssertTrue(message([[1], [2, 25]]).contains("sequence 1"), message([[1], [2, 25]]))
        XCTAssertThrowsError(try TextTower(config: TextTowerConfig(hiddenSize: 10, numAttentionHeads: 3), rng: &rng))
    }
}
