import ReverieCore
import ReverieRuntime
import XCTest

/// Every module seeds from its key: adding or changing one part or option leaves every other module's initial
/// weights as they were.
final class KeyedInitialisationTests: XCTestCase {
    func parts(_ change: (inout ModelParts) throws -> Void = { _ in }) throws -> ModelParts {
        var p = ModelParts()
        p.vision = VisionPart()
        p.vae = VAEPart()
        p.unet = UNetPart()
        p.projector = ProjectorPart()
        p.llm = LLMPart()
        p.output = OutputPart()
        try change(&p)
        return p
    }

    func weights(_ p: ModelParts) throws -> [String: [Float]] {
        var rng = RNG(seed: 7)
        return try ModelAssembly.multimodal(p, rng: &rng).stateDict().mapValues { $0.toArray() }
    }

    func testModulesDoNotDependOnEachOther() throws {
        let base = try weights(parts())
        let variants: [(String, ModelParts)] = [
            ("change head", try parts { $0.output?.changeHead = true }),
            ("source queries", try parts { $0.output?.sourceQueries = true }),
            ("visual positions", try parts { $0.projector?.positions = .token }),
            ("qformer projector", try parts { $0.projector = try ProjectorPart(type: "qformer") }),
            ("autoregressive output", try parts { $0.output?.mode = .autoregressive }),
        ]
        for (name, variant) in variants {
            let other = try weights(variant)
            let shared = Set(base.keys).intersection(other.keys)
            XCTAssertGreaterThan(shared.count, base.count / 2, name)
            for key in shared.sorted() where !key.hasPrefix("projector") || name != "qformer projector" {
                XCTAssertEqual(base[key], other[key], "\(name): \(key)")
            }
        }
        // A different seed gives different weights.
        var rng = RNG(seed: 8)
        let reseeded = try ModelAssembly.multimodal(parts(), rng: &rng).stateDict()
        XCTAssertNotEqual(reseeded["output_head.mlp.fc1.weight"]?.toArray(), base["output_head.mlp.fc1.weight"])
    }
}
