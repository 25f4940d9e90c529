import Foundation
import XCTest

/// Each inference command offers the options it uses and no others; samplers are chosen by name; `--version`.
final class InferenceOptionsTests: XCTestCase {
    func testCaptionOffersNoDrawingOptions() throws {
        let help = try ReverieBinary.run(["caption", "--help"])
        XCTAssertTrue(help.succeeded, "\(help)")
        for flag in ["--guidance", "--keep-threshold", "--keep-grow", "--steps", "--sampler"] {
            XCTAssertFalse(help.stdout.contains(flag), "caption --help lists \(flag):\n\(help.stdout)")
        }
        let generate = try ReverieBinary.run(["generate", "--help"])
        for flag in ["--guidance", "--steps", "--sampler"] { XCTAssertTrue(generate.stdout.contains(flag), flag) }
        XCTAssertFalse(generate.stdout.contains("--keep-threshold"), generate.stdout)
        let edit = try ReverieBinary.run(["edit", "--help"])
        for flag in ["--keep-threshold", "--keep-grow", "--sampler"] { XCTAssertTrue(edit.stdout.contains(flag), flag) }
    }

    func testSamplerIsChosenByNameAndUnknownOnesAreRefused() throws {
        let refused = try ReverieBinary.run([
            "generate", "--sampler", "dpm", "--prompt", "a red circle",
            "--out", "/tmp/never.png",
        ])
        XCTAssertFalse(refused.succeeded)
        XCTAssertTrue(
            refused.stderr.contains("unknown --sampler 'dpm'") && refused.stderr.contains("euler"),
            refused.stderr)
        let help = try ReverieBinary.run(["generate", "--help"])
        XCTAssertTrue(help.stdout.contains("ddim, euler, flow"), help.stdout)
    }

    /// Numbers out of range are refused by flag before the model loads: infinite or huge guidance, a keep
    /// threshold outside [0, 1], no capabilities to evaluate.
    func testOutOfRangeNumbersAreRefusedByFlag() throws {
        let cases: [([String], String)] = [
            (["generate", "--prompt", "a", "--out", "/tmp/never.png", "--guidance", "inf"], "--guidance"),
            (["generate", "--prompt", "a", "--out", "/tmp/never.png", "--guidance", "1e39"], "--guidance"),
            (
                ["edit", "--image", "x.png", "--instruction", "a", "--out", "/tmp/never.png", "--keep-threshold", "2"],
                "--keep-threshold"
            ),
            (
                [
                    "edit", "--image", "x.png", "--instruction", "a", "--out", "/tmp/never.png", "--keep-threshold",
                    "nan",
                ],
                "--keep-threshold"
            ),
            (["eval", "--capabilities", ""], "--capabilities names none"),
        ]
        for (arguments, flag) in cases {
            let run = try ReverieBinary.run(arguments)
            XCTAssertFalse(run.succeeded, "\(arguments)")
            XCTAssertFalse(run.wasSignalled, "\(arguments)")
            XCTAssertTrue(run.stderr.contains(flag), "\(arguments): \(run.stderr)")
        }
    }

    func testVersion() throws {
        let version = try ReverieBinary.run(["--version"])
        XCTAssertTrue(version.succeeded, "\(version)")
        XCTAssertFalse(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }
}
