import XCTest

@testable import ReverieDiffusion

/// Diffusers configs declaring impossible sizes are refused by key, never trapped on or allocated (the fuzzer's
/// `norm_num_groups: 0` divided by zero; 2^20 channels and a 2^40 cross-attention width aborted in the allocator).
final class ConvNetBoundsTests: XCTestCase {
    let unet =
        #"{"_class_name": "UNet2DConditionModel", "down_block_types": ["CrossAttnDownBlock2D"], "#
        + #""up_block_types": ["CrossAttnUpBlock2D"], "#

    func testUNetSizesAreRefusedByKey() {
        for (tail, word) in [
            (#""block_out_channels": [16], "norm_num_groups": 0}"#, "norm_num_groups must be ≥ 1"),
            (#""block_out_channels": [1048576], "norm_num_groups": 8}"#, "block_out_channels [1048576]"),
            (
                #""block_out_channels": [16], "norm_num_groups": 8, "cross_attention_dim": 1099511627776}"#,
                "cross_attention_dim must be in 1...65536"
            ),
            (
                #""block_out_channels": [16], "norm_num_groups": 8, "layers_per_block": 1000000000}"#,
                "layers_per_block must be in 1...64"
            ),
            (
                #""block_out_channels": [16384], "norm_num_groups": 8, "layers_per_block": 64}"#,
                "more than this machine's"
            ),
        ] {
            XCTAssertThrowsError(try UNet2DConditionConfig.decode(json: unet + tail, source: "config.json")) {
                XCTAssertTrue("\($0)".contains(word), "\($0)")
                XCTAssertTrue("\($0)".contains("config.json"), "\($0)")
            }
        }
    }

    func testAutoencoderSizesAreRefusedByKey() {
        let vae = #"{"_class_name": "AutoencoderKL", "norm_num_groups": 8, "#
        for (tail, word) in [
            (#""block_out_channels": [1048576, 1048576]}"#, "block_out_channels"),
            (#""block_out_channels": [16], "latent_channels": 1099511627776}"#, "latent_channels must be in"),
        ] {
            XCTAssertThrowsError(try AutoencoderKLConfig.decode(json: vae + tail, source: "vae.json")) {
                XCTAssertTrue("\($0)".contains(word), "\($0)")
            }
        }
    }
}
