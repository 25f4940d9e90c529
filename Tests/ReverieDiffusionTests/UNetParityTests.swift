import Foundation
import ReverieCore
import ReverieDiffusion
import ReverieIO
import ReverieNN
import ReverieTestSupport
import XCTest

/// UNet2DConditionModel against diffusers (tools/fixtures/unet.py): weights through ReverieIO, forward within 1e-4.
final class UNetParityTests: XCTestCase {
    static func load(_ name: String) throws -> (UNet2DConditionModel, Checkpoint) {
        let url = Fixture.url(name)
        let fx = try Checkpoint.read(from: url)
        let config = try UNet2DConditionConfig.decode(json: fx.modelConfig ?? "{}", source: url.path)
        var rng = RNG(seed: 0)
        let unet = try UNet2DConditionModel(config: config, rng: &rng)
        try loadStateDict(fx.model, into: unet.stateDict(), file: url.path)
        return (unet, fx)
    }

    func check(_ name: String) throws {
        let (unet, fx) = try Self.load(name)
        let out = try withNoGrad {
            try unet(
                fx.reference("sample"), timesteps: fx.reference("timesteps").toArray(),
                conditions: fx.reference("conditions"))
        }
        let expected = try fx.reference("output")
        XCTAssertEqual(out.shape, expected.shape)
        assertClose(out, expected, atol: 1e-4, rtol: 0)
        print("UNet2DConditionModel parity \(name): max abs error \(maxAbsDiff(out.toArray(), expected.toArray()))")
    }

    func testConfigA() throws { try check("unet_a.h5") }
    func testConfigBWithExtraInputChannels() throws { try check("unet_b.h5") }
    func testConfigCLinearProjectionsAndTwoTransformerLayers() throws { try check("unet_c.h5") }
    func testConfigDActivationAndScalingKeys() throws { try check("unet_d.h5") }
    func testConfigEConditionsProjectedByEncoderHidProj() throws { try check("unet_e.h5") }

    /// encoder_hid_dim_type other than text_proj, or without a dimension, is refused by name.
    func testOtherEncoderHidProjectionsAreRefused() throws {
        let base =
            #"{"_class_name": "UNet2DConditionModel", "block_out_channels": [16], "norm_num_groups": 8, "#
            + #""down_block_types": ["CrossAttnDownBlock2D"], "up_block_types": ["CrossAttnUpBlock2D"], "#
        for (tail, word) in [
            (#""encoder_hid_dim": 8, "encoder_hid_dim_type": "image_proj"}"#, "image_proj"),
            (#""encoder_hid_dim_type": "text_proj"}"#, "needs encoder_hid_dim"),
        ] {
            XCTAssertThrowsError(try UNet2DConditionConfig.decode(json: base + tail, source: "config.json")) { error in
                XCTAssertTrue("\(error)".contains(word), "\(error)")
            }
        }
    }

    /// Each key unet_d sets away from its default matters: without it the output leaves the parity tolerance.
    func testEveryHonouredKeyOfConfigDChangesTheOutput() throws {
        let url = Fixture.url("unet_d.h5")
        let fx = try Checkpoint.read(from: url)
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data((fx.modelConfig ?? "").utf8)) as? [String: Any])
        let keys = [
            "act_fn", "center_input_sample", "downsample_padding", "mid_block_scale_factor", "timestep_post_act",
            "time_embedding_act_fn",
        ]
        for key in keys {
            XCTAssertNotNil(json[key], key)
            var without = json
            without.removeValue(forKey: key)
            let text = String(decoding: try JSONSerialization.data(withJSONObject: without), as: UTF8.self)
            var rng = RNG(seed: 0)
            let unet = try UNet2DConditionModel(config: .decode(json: text, source: key), rng: &rng)
            try loadStateDict(fx.model, into: unet.stateDict(), file: url.path)
            let out = try withNoGrad {
                try unet(
                    fx.reference("sample"), timesteps: fx.reference("timesteps").toArray(),
                    conditions: fx.reference("conditions"))
            }
            let d = maxAbsDiff(out.toArray(), try fx.reference("output").toArray())
            print("unet_d without \(key): max abs error \(d)")
            XCTAssertGreaterThan(d, 1e-3, key)
        }
    }

    func testBadInputsAndConfigsAreNamed() throws {
        let (unet, fx) = try Self.load("unet_a.h5")
        let x = try fx.reference("sample")
        XCTAssertThrowsError(try unet(x, timesteps: [1], conditions: fx.reference("conditions")))
        XCTAssertThrowsError(try unet(x, timesteps: [1, 2], conditions: Tensor(zeros: [2, 3, 7]))) {
            XCTAssertTrue("\($0)".contains("conditions"), "\($0)")
        }
        let bad =
            "{\"block_out_channels\": [16], \"down_block_types\": [\"AttnDownBlock2D\"], "
            + "\"up_block_types\": [\"UpBlock2D\"], \"norm_num_groups\": 8}"
        XCTAssertThrowsError(try UNet2DConditionConfig.decode(json: bad, source: "unet.json")) {
            XCTAssertTrue("\($0)".contains("unet.json") && "\($0)".contains("AttnDownBlock2D"), "\($0)")
        }
    }
}
