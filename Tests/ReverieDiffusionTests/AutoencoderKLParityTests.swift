import ReverieCore
import ReverieDiffusion
import ReverieIO
import ReverieNN
import ReverieTestSupport
import XCTest

/// AutoencoderKL against diffusers (tools/fixtures/vae.py): weights loaded through ReverieIO, encode (posterior
/// mean, logvar, KL) and decode within 1e-4.
final class AutoencoderKLParityTests: XCTestCase {
    static func load(_ name: String) throws -> (AutoencoderKL, Checkpoint) {
        let url = Fixture.url(name)
        let fx = try Checkpoint.read(from: url)
        let config = try AutoencoderKLConfig.decode(json: fx.modelConfig ?? "{}", source: url.path)
        var rng = RNG(seed: 0)
        let vae = try AutoencoderKL(config: config, rng: &rng)
        try loadStateDict(fx.model, into: vae.stateDict(), file: url.path)
        return (vae, fx)
    }

    func check(_ name: String) throws {
        let (vae, fx) = try Self.load(name)
        let posterior = try withNoGrad { try vae.encode(fx.reference("input")) }
        let decoded = try withNoGrad { try vae.decode(fx.reference("latent")) }
        var report: [String] = []
        for (label, actual, expected) in [
            ("mean", posterior.mean, try fx.reference("mean")),
            ("logvar", posterior.logvar, try fx.reference("logvar")),
            ("kl", try posterior.kl(), try fx.reference("kl")),
            ("decoded", decoded, try fx.reference("decoded")),
        ] {
            XCTAssertEqual(actual.shape, expected.shape, "\(name) \(label)")
            let atol: Float = label == "kl" ? 1e-4 * max(1, abs(expected.toArray().max() ?? 1)) : 1e-4
            assertClose(actual, expected, atol: atol, rtol: 0)
            report.append("\(label) \(maxAbsDiff(actual.toArray(), expected.toArray()))")
        }
        print("AutoencoderKL parity \(name): " + report.joined(separator: ", "))
    }

    func testConfigA() throws { try check("vae_a.h5") }

    func testScaledLatentsRoundTripTheScalingFactor() throws {
        let (vae, fx) = try Self.load("vae_a.h5")
        let x = try fx.reference("input")
        let z = try withNoGrad { try vae.encodeLatents(x) }
        assertClose(z, try fx.reference("mean") * vae.config.scalingFactor, atol: 1e-5)
        assertClose(
            try withNoGrad { try vae.decodeLatents(z) }, try withNoGrad { try vae.decode(vae.encode(x).mean) },
            atol: 1e-5)
        var rng = RNG(seed: 1)
        XCTAssertEqual(try vae.encodeLatents(x, rng: &rng).shape, z.shape)
    }
    func testConfigB() throws { try check("vae_b.h5") }
    func testConfigCWithGELU() throws { try check("vae_c.h5") }

    func testBadInputsAreNamed() throws {
        let (vae, _) = try Self.load("vae_a.h5")
        XCTAssertThrowsError(try vae.encode(Tensor(zeros: [1, 3, 31, 31]))) { XCTAssertTrue("\($0)".contains("2")) }
        XCTAssertThrowsError(try vae.decode(Tensor(zeros: [1, 5, 4, 4])))
        let bad = "{\"block_out_channels\": [30], \"norm_num_groups\": 8}"
        XCTAssertThrowsError(try AutoencoderKLConfig.decode(json: bad, source: "x.json")) {
            XCTAssertTrue("\($0)".contains("x.json"), "\($0)")
        }
    }
}
