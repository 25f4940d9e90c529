import Foundation
import ReverieCore
import ReverieIO
import ReverieNN
import ReverieRuntime
import ReverieTestSupport
import ReverieVision
import XCTest

@testable import ReverieTrain

/// `vision: {init: hf:DIR, lora: {…}}`: only the adapters of a pretrained SigLIP train; the export merges them
/// (the merged encoder computes what the adapted one does) and also writes them in PEFT's layout.
final class VisionLoRATests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try TinyRecipes.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static let siglip = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/siglip/head")

    func recipe(lora: String) throws -> URL {
        let yaml = """
            stage: siglip
            root: \(dir.appendingPathComponent("runs").path)
            data: {world_seed: 5, canvas: 16}
            model:
              vision: {init: hf:\(Self.siglip.path), lora: \(lora)}
              text: {hidden: 16, intermediate: 32, layers: 1, heads: 2, projection: 16}
            optim: {lr: 1e-2, warmup: 1}
            train: {steps: 3, batch: 4, log_every: 1}
            """
        let url = dir.appendingPathComponent("siglip.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testOnlyTheAdaptersTrainAndTheMergedExportComputesTheSame() throws {
        let r = try Recipe.load(recipe(lora: "{rank: 2, alpha: 4, targets: [q_proj, v_proj]}"))
        let trainer = try Trainer(recipe: r)
        trainer.quiet = true
        XCTAssertTrue(try trainer.run().losses.allSatisfy(\.isFinite))
        let trained = try Checkpoint.readModel(from: r.finalCheckpoint, prefix: "vision_encoder")
        let pretrained = try VisionEncoder.convertHuggingFace(directory: Self.siglip).model
        var adapters = 0
        for (key, tensor) in trained {
            if key.contains(".lora_") {
                adapters += 1
            } else {
                XCTAssertEqual(tensor.toArray(), try XCTUnwrap(pretrained[key], key).toArray(), key)
            }
        }
        XCTAssertEqual(adapters, 2 * 2 * 2)  // A and B, q and v, two layers
        let b = try XCTUnwrap(trained["encoder.layers.0.self_attn.q_proj.lora_B.weight"])
        XCTAssertTrue(b.toArray().contains { $0 != 0 }, "lora_B starts at zero and must have trained")

        // The adapted encoder, as the checkpoint holds it, against the merged export.
        let parts = try ModelConfigRecord.read(r.finalCheckpoint).parts
        var rng = RNG(seed: 0)
        let adapted = try PartBuilding.vision(try XCTUnwrap(parts.vision), rng: &rng)
        try loadStateDict(trained, into: adapted.stateDict(), strict: true, file: "final.h5")
        let out = dir.appendingPathComponent("export")
        _ = try PartExport.siglip.write(r.finalCheckpoint, out)
        let merged = try VisionEncoder.load(huggingFaceDirectory: out)
        let pixels = Tensor.randn([2, 3, 16, 16], rng: &rng)
        try withNoGrad {
            assertClose(
                try merged(pixels).lastHiddenState, try adapted(pixels).lastHiddenState, atol: 1e-5, rtol: 0)
        }
        let peft = try SafetensorsFile(url: out.appendingPathComponent("adapter/adapter_model.safetensors"))
        XCTAssertTrue(
            peft.tensorNames.contains("base_model.model.vision_model.encoder.layers.0.self_attn.q_proj.lora_A.weight"),
            "\(peft.tensorNames)")
    }

    func testAnUnknownTargetNamesTheLayersThereAre() throws {
        let r = try Recipe.load(recipe(lora: "{rank: 2, targets: [c_attn]}"))
        XCTAssertThrowsError(try StageBuilder.build(r)) { error in
            XCTAssertTrue("\(error)".contains("c_attn") && "\(error)".contains("q_proj"), "\(error)")
        }
    }
}
