import Foundation
import ReverieCore
import ReverieDiffusion
import ReverieIO
import ReverieNN
import ReverieRuntime
import ReverieTestSupport
import ReverieVision
import XCTest

@testable import ReverieTrain

/// `reverie export` round trips against outputs the Python libraries computed: a model whose parts start from
/// directories made by transformers / diffusers (`init: hf:`) is saved as a Reverie checkpoint, each part is
/// exported, and the exported directory, loaded as Python would load it, reproduces the committed reference
/// outputs of the original (SiglipVisionModel last_hidden_state; AutoencoderKL posterior mean and decode;
/// UNet2DConditionModel's prediction) to 1e-4.
final class ExportParityTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try TinyRecipes.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let diffusion = tests.appendingPathComponent("ReverieDiffusionTests/Fixtures")

    /// The stage built from `model`, saved as a Reverie model checkpoint (as the trainer saves one).
    func checkpoint(stage: String, model: String, canvas: Int) throws -> URL {
        let yaml = """
            stage: \(stage)
            root: \(dir.appendingPathComponent("runs").path)
            data: {world_seed: 5, canvas: \(canvas)}
            model:
              \(model)
            optim: {lr: 1e-3}
            train: {steps: 1, batch: 2}
            """
        let url = dir.appendingPathComponent("\(stage).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        let built = try StageBuilder.build(Recipe.load(url))
        var c = Checkpoint(model: built.model.stateDict())
        c.modelConfig = try ModelConfigRecord(stage: stage, parts: built.parts).json()
        let out = dir.appendingPathComponent("\(stage).h5")
        try c.write(to: out)
        return out
    }

    /// A reference tensor under the fixture's /state.
    func state(_ fixture: Checkpoint, _ key: String) throws -> Tensor { try XCTUnwrap(fixture.state[key], key) }

    func export(_ part: PartName, _ checkpoint: URL) throws -> URL {
        let out = dir.appendingPathComponent("export-\(part.rawValue)")
        _ = try PartExport.registry.entry(part.rawValue, key: "part").write(checkpoint, out)
        return out
    }

    func testExportedSigLIPReproducesTransformers() throws {
        let siglip = Self.tests.appendingPathComponent("Fixtures/siglip/head")
        let ckpt = try checkpoint(
            stage: "siglip",
            model: "vision: {init: hf:\(siglip.path)}\n  text: {hidden: 16, intermediate: 32, layers: 1, heads: 2, "
                + "projection: 16}", canvas: 16)
        let encoder = try VisionEncoder.load(huggingFaceDirectory: export(.vision, ckpt))
        let reference = try SafetensorsFile(url: siglip.appendingPathComponent("reference.safetensors"))
        let out = try withNoGrad { try encoder(reference.tensor("pixel_values")) }
        assertClose(out.lastHiddenState, try reference.tensor("last_hidden_state"), atol: 1e-4, rtol: 0)
    }

    func testExportedAutoencoderAndUNetReproduceDiffusers() throws {
        let (vaeDir, unetDir) = (
            Self.diffusion.appendingPathComponent("diffusers/vae_a"),
            Self.diffusion.appendingPathComponent("diffusers/unet_a")
        )
        // Conditions as wide as the UNet's cross-attention, latents of its channels: exported as they came in.
        let ckpt = try checkpoint(
            stage: "decoder",
            model: "vision: {hidden: 24, intermediate: 32, layers: 1, heads: 2, image_size: 16, patch: 4}\n"
                + "  vae: {init: hf:\(vaeDir.path)}\n  unet: {init: hf:\(unetDir.path), condition_tokens: 4}",
            canvas: 16)
        var rng = RNG(seed: 0)
        let vaeOut = try export(.vae, ckpt)
        let vae = try AutoencoderKL(
            config: .decode(
                json: String(contentsOf: vaeOut.appendingPathComponent("config.json"), encoding: .utf8),
                source: "vae"), rng: &rng)
        try loadStateDict(DiffusersImport.convert(directory: vaeOut).model, into: vae.stateDict(), file: "vae")
        let vfx = try Checkpoint.read(from: Self.diffusion.appendingPathComponent("vae_a.h5"))
        try withNoGrad {
            assertClose(try vae.encode(state(vfx, "input")).mean, try state(vfx, "mean"), atol: 1e-4, rtol: 0)
            assertClose(try vae.decode(state(vfx, "latent")), try state(vfx, "decoded"), atol: 1e-4, rtol: 0)
        }

        let unetOut = try export(.unet, ckpt)
        let converted = try DiffusersImport.convert(directory: unetOut)
        let unet = try UNet2DConditionModel(
            config: .decode(json: converted.modelConfig ?? "", source: "unet"), rng: &rng)
        try loadStateDict(converted.model, into: unet.stateDict(), file: "unet")
        let ufx = try Checkpoint.read(from: Self.diffusion.appendingPathComponent("unet_a.h5"))
        let out = try withNoGrad {
            try unet(
                state(ufx, "sample"), timesteps: state(ufx, "timesteps").toArray(),
                conditions: state(ufx, "conditions"))
        }
        assertClose(out, try state(ufx, "output"), atol: 1e-4, rtol: 0)
    }

    /// The projector's tensors under its own (LLaVA) names and its options come back as they were stored.
    func testProjectorExportRoundTrips() throws {
        let ckpt = try checkpoint(
            stage: "mllm",
            model: """
                vision: {hidden: 16, intermediate: 32, layers: 1, heads: 2, image_size: 16, patch: 4}
                  vae: {channels: [8, 8], latent_channels: 4, norm_groups: 4}
                  unet: {channels: [16], heads: 2, norm_groups: 4, condition_tokens: 4}
                  projector: {type: mlp, positions: token}
                  llm: {hidden: 32, intermediate: 64, layers: 1, heads: 2}
                  output: {mode: queries, head_hidden: 32}
                """, canvas: 16)
        let out = try export(.projector, ckpt)
        let weights = try SafetensorsFile(url: out.appendingPathComponent("model.safetensors"))
        let stored = try Checkpoint.readModel(from: ckpt)
        let expected = stored.filter { PartName.projector.owns($0.key) }
        XCTAssertEqual(
            Set(weights.tensorNames),
            Set(expected.keys.map { $0.hasPrefix("projector.") ? String($0.dropFirst("projector.".count)) : $0 }))
        XCTAssertTrue(weights.tensorNames.contains("linear_1.weight"))
        for (key, tensor) in expected {
            let name = key.hasPrefix("projector.") ? String(key.dropFirst("projector.".count)) : key
            XCTAssertEqual(try weights.tensor(name).toArray(), tensor.toArray(), key)
        }
        let config = try Data(contentsOf: out.appendingPathComponent("config.json"))
        let part = try JSONDecoder().decode(ProjectorPart.self, from: config)
        XCTAssertEqual(part, try ModelConfigRecord.read(ckpt).parts.projector)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: config) as? [String: Any])
        XCTAssertEqual(object["input_dim"] as? Int, 16)
        XCTAssertEqual(object["output_dim"] as? Int, 32)
    }
}
