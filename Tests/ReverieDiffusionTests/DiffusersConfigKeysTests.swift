import Foundation
import ReverieCore
import ReverieIO
import ReverieTestSupport
import XCTest

@testable import ReverieDiffusion

/// Every key of a diffusers config is honoured or refused: a value Reverie does not implement, or a key it does not
/// know, is an error naming the key and the value, never silently ignored.
final class DiffusersConfigKeysTests: XCTestCase {
    func config(_ fixture: String) throws -> [String: Any] {
        let text = try Checkpoint.read(from: Fixture.url(fixture)).modelConfig ?? ""
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// A value unlike `allowed` (a rule's Swift literal) of the same JSON kind, or a number for null.
    func different(_ allowed: Any) -> Any {
        switch allowed {
        case is NSNull: return 7
        case let s as String: return s + "_other"
        case let b as Bool: return !b
        case let i as Int: return i + 1
        case let d as Double: return d + 1
        default: return "other"
        }
    }

    func assertRefused(
        _ object: [String: Any], mentioning words: [String], decode: (String) throws -> Void,
        line: UInt = #line
    ) throws {
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        XCTAssertThrowsError(try decode(text), line: line) { error in
            for word in words { XCTAssertTrue("\(error)".contains(word), "\(error) lacks \(word)", line: line) }
        }
    }

    func testUnimplementedValuesAndUnknownKeysAreRefusedByName() throws {
        let cases: [(String, [String: DiffusersConfigKeys.Rule], (String) throws -> Void)] = [
            (
                "unet_a.h5", DiffusersConfigKeys.unet,
                { _ = try UNet2DConditionConfig.decode(json: $0, source: "unet.json") }
            ),
            (
                "vae_a.h5", DiffusersConfigKeys.autoencoder,
                { _ = try AutoencoderKLConfig.decode(json: $0, source: "vae.json") }
            ),
        ]
        for (fixture, rules, decode) in cases {
            let base = try config(fixture)
            var refused = 0
            for (key, rule) in rules {
                guard case let .only(allowed) = rule else { continue }
                var bad = base
                bad[key] = different(allowed)
                try assertRefused(bad, mentioning: [key], decode: decode)
                refused += 1
            }
            XCTAssertGreaterThan(refused, 2, fixture)
            var unknown = base
            unknown["brand_new_option"] = 3
            try assertRefused(unknown, mentioning: ["brand_new_option"], decode: decode)
        }
        var sdxl = try config("unet_a.h5")
        sdxl["addition_embed_type"] = "text_time"
        try assertRefused(sdxl, mentioning: ["addition_embed_type", "text_time"]) {
            _ = try UNet2DConditionConfig.decode(json: $0, source: "unet.json")
        }
        var activation = try config("vae_a.h5")
        activation["act_fn"] = "softsign"
        try assertRefused(activation, mentioning: ["act_fn", "softsign"]) {
            _ = try AutoencoderKLConfig.decode(json: $0, source: "vae.json")
        }
    }
}
