import Foundation
import ReverieCore
import ReverieDiffusion
import ReverieIO
import ReverieNN
import ReverieTestSupport
import XCTest

/// `reverie convert` for diffusers directories (tools/fixtures/diffusers_dirs.py): the directories carry the weights
/// of the vae_a / unet_a parity fixtures, so a converted checkpoint must hold exactly those tensors and reproduce
/// the diffusers reference outputs through a model built from its `model_config`.
final class DiffusersImportTests: XCTestCase {
    func testAutoencoderKLDirectoryConvertsAndMatchesDiffusers() throws {
        let converted = try DiffusersImport.convert(directory: Fixture.url("diffusers/vae_a"))
        let fx = try Fixture.read("vae_a.h5")
        XCTAssertEqual(Set(converted.model.keys), Set(fx.model.keys))
        for (key, tensor) in fx.model { XCTAssertEqual(converted.model[key]?.toArray(), tensor.toArray(), key) }
        let config = try AutoencoderKLConfig.decode(json: try XCTUnwrap(converted.modelConfig), source: "converted")
        var rng = RNG(seed: 3)
        let vae = try AutoencoderKL(config: config, rng: &rng)
        try vae.loadStateDict(converted.model, strict: true)
        let decoded = try withNoGrad { try vae.decode(fx.reference("latent")) }
        assertClose(decoded, try fx.reference("decoded"), atol: 1e-4, rtol: 0)
    }

    func testFloat16UNetDirectoryWidensAndMatchesDiffusers() throws {
        let converted = try DiffusersImport.convert(directory: Fixture.url("diffusers/unet_a"))
        let fx = try Fixture.read("unet_a.h5")
        for (key, tensor) in fx.model { XCTAssertEqual(converted.model[key]?.toArray(), tensor.toArray(), key) }
        let config = try UNet2DConditionConfig.decode(json: try XCTUnwrap(converted.modelConfig), source: "converted")
        var rng = RNG(seed: 3)
        let unet = try UNet2DConditionModel(config: config, rng: &rng)
        try unet.loadStateDict(converted.model, strict: true)
        let out = try withNoGrad {
            try unet(
                fx.reference("sample"), timesteps: fx.reference("timesteps").toArray(),
                conditions: fx.reference("conditions"))
        }
        assertClose(out, try fx.reference("output"), atol: 1e-4, rtol: 0)
    }

    func testBadDirectoriesAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "reverie-diffusers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let vae = Fixture.url("diffusers/vae_a")
        // No weights file.
        try FileManager.default.copyItem(
            at: vae.appendingPathComponent("config.json"),
            to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try DiffusersImport.convert(directory: dir)) {
            XCTAssertTrue("\($0)".contains(dir.path), "\($0)")
        }
        // Weights of another model: the UNet's tensors under the VAE's config.
        try FileManager.default.copyItem(
            at: Fixture.url("diffusers/unet_a").appendingPathComponent("diffusion_pytorch_model.safetensors"),
            to: dir.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        XCTAssertThrowsError(try DiffusersImport.convert(directory: dir)) {
            XCTAssertTrue("\($0)".contains("AutoencoderKL"), "\($0)")
        }
        // An unsupported class.
        let config = try String(contentsOf: dir.appendingPathComponent("config.json"), encoding: .utf8)
        try config.replacingOccurrences(of: "\"AutoencoderKL\"", with: "\"VQModel\"")
            .write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DiffusersImport.convert(directory: dir)) {
            XCTAssertTrue("\($0)".contains("VQModel") && "\($0)".contains("_class_name"), "\($0)")
        }
    }
}
