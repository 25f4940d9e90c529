import Foundation
import ReverieCore
import ReverieDiffusion
import ReverieIO
import ReverieRuntime
import ReverieTestSupport
import XCTest

@testable import ReverieTrain

/// The decoder from a Stable Diffusion pipeline directory (random-init, made by diffusers:
/// tools/fixtures/diffusers_dirs.py): `unet: {init: hf:sd/unet}` and `vae: {init: hf:sd/vae}`.
final class PretrainedDecoderTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try TinyRecipes.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static let sd = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ReverieDiffusionTests/Fixtures/diffusers/sd")

    func recipe(unet: String, sd: URL = PretrainedDecoderTests.sd, name: String = "decoder", steps: Int = 3) throws
        -> URL
    {
        let yaml = """
            stage: decoder
            name: \(name)
            root: \(dir.appendingPathComponent("runs").path)
            data: {world_seed: 5, canvas: 16}
            model:
              vision: {hidden: 16, intermediate: 32, layers: 1, heads: 2, image_size: 16, patch: 4}
              vae: {init: hf:\(sd.appendingPathComponent("vae").path)}
              unet: \(unet)
            freeze: [vision, vae]
            optim: {lr: 1e-3, warmup: 1}
            train: {steps: \(steps), batch: 2, log_every: 1}
            """
        let url = dir.appendingPathComponent("\(name).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// The UNet starts with exactly the pretrained weights; the spatial conditions' extra input channels start at
    /// zero and the 16-wide conditions reach the 24-wide cross-attention through a new encoder_hid_proj; the
    /// schedule is the pipeline's (v-prediction, 500 timesteps). It trains, and a later stage rebuilds it from the
    /// checkpoint.
    func testAStableDiffusionUNetStartsTheDecoderStage() throws {
        let unetDir = Self.sd.appendingPathComponent("unet")
        let r = try Recipe.load(
            recipe(unet: "{init: hf:\(unetDir.path), condition_tokens: 4, spatial_conditioning: true, null: learned}"))
        let parts = try StageBuilder.resolveParts(r)
        let u = try XCTUnwrap(parts.unet)
        XCTAssertEqual(u.prediction, .vPrediction)
        XCTAssertEqual(u.trainTimesteps, 500)
        XCTAssertEqual(u.conditionTokens, 4)
        XCTAssertEqual(u.diffusers?.crossAttentionDim, 24)

        let state = try StageBuilder.build(r).model.stateDict()
        let converted = try DiffusersImport.convert(directory: unetDir).model
        for (key, tensor) in converted where key != "conv_in.weight" {
            XCTAssertEqual(try XCTUnwrap(state["decoder.unet." + key], key).toArray(), tensor.toArray(), key)
        }
        let convIn = try XCTUnwrap(state["decoder.unet.conv_in.weight"])
        XCTAssertEqual(convIn.shape, [16, 4 + 16, 3, 3])
        let halves = try convIn.split([4, 16], axis: 1)
        XCTAssertEqual(halves[0].toArray(), try XCTUnwrap(converted["conv_in.weight"]).toArray())
        XCTAssertTrue(halves[1].toArray().allSatisfy { $0 == 0 })
        XCTAssertEqual(state["decoder.unet.encoder_hid_proj.weight"]?.shape, [24, 16])

        let trainer = try Trainer(recipe: r)
        trainer.quiet = true
        XCTAssertTrue(try trainer.run().losses.allSatisfy(\.isFinite))
        let next = try Recipe.load(recipe(unet: "{init: decoder}", name: "again", steps: 1))
        XCTAssertEqual(try StageBuilder.resolveParts(next).unet, u)
        let trained = try Checkpoint.readModel(from: r.finalCheckpoint)
        let rebuilt = try StageBuilder.build(next).model.stateDict()
        for (key, tensor) in trained where key.hasPrefix("decoder.unet.") {
            XCTAssertEqual(try XCTUnwrap(rebuilt[key], key).toArray(), tensor.toArray(), key)
        }
        try checkExportsReadBack(r.finalCheckpoint)
    }

    /// `reverie export --part unet|vae|vision` of a trained decoder: each directory, read back by `init: hf:`,
    /// gives the checkpoint's tensors and configuration (the UNet with its schedule and null condition).
    func checkExportsReadBack(_ checkpoint: URL) throws {
        let stored = try ModelConfigRecord.read(checkpoint).parts
        let trained = try Checkpoint.readModel(from: checkpoint)
        for part in [PartName.unet, .vae, .vision] {
            let out = dir.appendingPathComponent("export-\(part.rawValue)")
            let files = try PartExport.registry.entry(part.rawValue, key: "part").write(checkpoint, out)
            XCTAssertGreaterThanOrEqual(files.count, 2, "\(part)")
            let importer = try PretrainedParts.registry.entry(part.rawValue, key: "init")
            var options = ModelParts()
            options.unet = stored.unet  // the recipe-only options a recipe would write beside init
            var parts = stored
            parts.take(part, from: try importer.configuration(out, options))
            let back = try importer.weights(out, parts)
            var compared = 0
            for (key, tensor) in trained where part.owns(key) && key != "decoder.null_condition" {
                XCTAssertEqual(try XCTUnwrap(back[key], key).toArray(), tensor.toArray(), key)
                compared += 1
            }
            XCTAssertEqual(compared, back.count, "\(part)")
            if part == .unet {
                XCTAssertEqual(parts.unet?.prediction, .vPrediction)
                XCTAssertEqual(parts.unet?.trainTimesteps, 500)
                XCTAssertEqual(parts.unet?.diffusers?.encoderHidDim, 16)
                let null = try SafetensorsFile(url: out.appendingPathComponent("null_condition.safetensors"))
                XCTAssertEqual(
                    try null.tensor("null_condition").toArray(), trained["decoder.null_condition"]?.toArray())
            }
        }
    }

    /// A schedule option beside `init` must agree with the pipeline's scheduler; one Reverie cannot make is named.
    func testTheSchedulerConfigIsCheckedByKey() throws {
        let unetDir = Self.sd.appendingPathComponent("unet").path
        XCTAssertThrowsError(try Recipe.load(recipe(unet: "{init: hf:\(unetDir), prediction: epsilon}"))) { error in
            let e = error as? RecipeError
            XCTAssertEqual(e?.key, "model.unet.prediction", "\(error)")
            XCTAssertTrue(e?.message.contains("epsilon in the recipe, v_prediction in") ?? false, "\(error)")
        }
        let copy = dir.appendingPathComponent("sd")
        try FileManager.default.copyItem(at: Self.sd, to: copy)
        let scheduler = copy.appendingPathComponent("scheduler/scheduler_config.json")
        let text = try String(contentsOf: scheduler, encoding: .utf8)
            .replacingOccurrences(of: "\"rescale_betas_zero_snr\": false", with: "\"rescale_betas_zero_snr\": true")
        try text.write(to: scheduler, atomically: true, encoding: .utf8)
        let unet = "{init: hf:\(copy.appendingPathComponent("unet").path)}"
        XCTAssertThrowsError(try StageBuilder.build(Recipe.load(recipe(unet: unet, sd: copy)))) { error in
            XCTAssertEqual((error as? RecipeError)?.key, "model.unet.init", "\(error)")
            XCTAssertTrue("\(error)".contains("rescale_betas_zero_snr"), "\(error)")
        }
    }
}
