import Foundation
import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieDiffusion

/// The conditions added at every level of the UNet (`spatial_injection`).
final class ConditionInjectionTests: XCTestCase {
    func unet(injection: Bool, seed: UInt64 = 7) throws -> UNet2DConditionModel {
        var config = UNet2DConditionConfig(
            inChannels: 2, outChannels: 2, blockOutChannels: [8, 16], layersPerBlock: 1,
            downBlockTypes: ["CrossAttnDownBlock2D", "DownBlock2D"], upBlockTypes: ["UpBlock2D", "CrossAttnUpBlock2D"],
            crossAttentionDim: 6, heads: [2, 2], normNumGroups: 4)
        config.spatialInjection = injection
        var rng = RNG(seed: seed)
        return try UNet2DConditionModel(config: config, rng: &rng)
    }

    func testStartsAsThePlainUNetAndThenReadsTheConditions() throws {
        let plain = try unet(injection: false), injected = try unet(injection: true)
        // Zero-initialised: the same weights give the same output, and every key beside the injection's is shared.
        let extra = Set(injected.namedParameters().map(\.0)).subtracting(plain.namedParameters().map(\.0))
        XCTAssertEqual(
            extra,
            [
                "condition_injection.down.0.weight", "condition_injection.down.0.bias",
                "condition_injection.down.1.weight", "condition_injection.down.1.bias",
                "condition_injection.mid.weight", "condition_injection.mid.bias",
                "condition_injection.up.0.weight", "condition_injection.up.0.bias",
                "condition_injection.up.1.weight", "condition_injection.up.1.bias",
                "condition_injection.out.weight", "condition_injection.out.bias",
            ])
        let sample = randomInput([2, 2, 4, 4], seed: 1), conditions = randomInput([2, 4, 6], seed: 2)
        let a = try plain(sample, timesteps: [10, 500], conditions: conditions)
        let b = try injected(sample, timesteps: [10, 500], conditions: conditions)
        XCTAssertEqual(a.toArray(), b.toArray())
        // The down block 0 injection's weight [8, 6, 1, 1] is the first output channel reading condition dim 0.
        let inject = try XCTUnwrap(injected.conditionInjection)
        XCTAssertEqual(inject.down[0].weight.shape, [8, 6, 1, 1])
        XCTAssertEqual(inject.mid.weight.shape, [16, 6, 1, 1])
        XCTAssertEqual(inject.up.map(\.weight.shape), [[16, 6, 1, 1], [16, 6, 1, 1]])
        XCTAssertEqual(inject.out.weight.shape, [8, 6, 1, 1])
        for conv in [inject.down[0], inject.mid, inject.out] { Init.constant(conv.weight, 0.1) }
        let c = conditions
        let y = try injected(sample, timesteps: [10, 500], conditions: c)
        XCTAssertNotEqual(y.toArray(), a.toArray())
        try y.square().sum().backward()
        XCTAssertGreaterThan(try XCTUnwrap(c.grad).toArray().map(abs).max() ?? 0, 0)
        XCTAssertGreaterThan(
            try XCTUnwrap(inject.up[1].weight.grad).toArray().map(abs).max() ?? 0, 0,
            "a zero injection still learns")
    }

    func testCoarserLevelsPoolTheTokenGrid() throws {
        // 16 tokens (a 4 × 4 grid) on a 2 × 2 level: each cell is the mean of its 2 × 2 tokens.
        let c = try Tensor(shape: [1, 16, 1], data: (0..<16).map(Float.init))
        XCTAssertEqual(try ConditionInjection.map(c, height: 2, width: 2).toArray(), [2.5, 4.5, 10.5, 12.5])
        XCTAssertEqual(try ConditionInjection.map(c, height: 8, width: 8).shape, [1, 1, 8, 8])
        XCTAssertThrowsError(try ConditionInjection.map(c, height: 3, width: 3))
        // A 4 × 4 latent under a 2-level UNet with 16 tokens: the 2 × 2 level pools.
        let u = try unet(injection: true)
        XCTAssertEqual(
            try u(
                randomInput([1, 2, 4, 4], seed: 3), timesteps: [1],
                conditions: randomInput([1, 16, 6], seed: 4)
            ).shape, [1, 2, 4, 4])
    }

    func testConfigWritesTheOptionOnlyWhenOn() throws {
        var config = try unet(injection: false).config
        let off = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        XCTAssertFalse(off.contains("reverie_spatial_injection"))
        config.spatialInjection = true
        let on = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        XCTAssertEqual(try UNet2DConditionConfig.decode(json: on, source: "t.json"), config)
        XCTAssertFalse(try UNet2DConditionConfig.decode(json: off, source: "t.json").spatialInjection)
    }
}
