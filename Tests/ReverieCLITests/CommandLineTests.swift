import Foundation
import XCTest

/// The `reverie` binary's top level: help, subcommands, and `bench` argument errors. The benchmark itself is never
/// run here (it takes minutes and the whole machine); `make bench` is its test.
final class CommandLineTests: XCTestCase {
    func testBinaryIsFound() throws {
        let url = try ReverieBinary.url()
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: url.path), url.path)
    }

    func testHelpListsSubcommands() throws {
        for arguments in [["--help"], ["-h"], ["help"]] {
            let result = try ReverieBinary.run(arguments)
            XCTAssertTrue(result.succeeded, "\(result)")
            XCTAssertTrue(result.stdout.contains("USAGE: reverie <subcommand>"), "\(result)")
            let subcommands = try XCTUnwrap(
                result.stdout.components(separatedBy: "SUBCOMMANDS:").dropFirst().first, "\(result)")
            for name in ["bench", "inspect"] {
                XCTAssertTrue(
                    subcommands.split(separator: "\n").contains {
                        $0.trimmingCharacters(in: .whitespaces).hasPrefix(name)
                    },
                    "\(name) listed: \(result)")
            }
        }
    }

    func testSubcommandHelp() throws {
        let inspect = try ReverieBinary.run(["inspect", "--help"])
        XCTAssertTrue(inspect.succeeded, "\(inspect)")
        XCTAssertTrue(inspect.stdout.contains("USAGE: reverie inspect <file> [--json]"), "\(inspect)")
        XCTAssertTrue(inspect.stdout.contains("--json"), "\(inspect)")

        let bench = try ReverieBinary.run(["bench", "--help"])
        XCTAssertTrue(bench.succeeded, "\(bench)")
        for option in ["--repeats", "--json", "core"] {
            XCTAssertTrue(bench.stdout.contains(option), "\(option): \(bench)")
        }
    }

    func testUnknownSubcommandFails() throws {
        let result = try ReverieBinary.run(["frobnicate"])
        XCTAssertFalse(result.succeeded, "\(result)")
        XCTAssertFalse(result.wasSignalled, "\(result)")
        XCTAssertTrue(result.stderr.contains("frobnicate"), "\(result)")
    }

    /// An unknown suite is rejected before any workload runs, naming the suites there are.
    func testBenchUnknownSuiteNamesTheAvailableOnes() throws {
        for arguments in [["bench", "nosuch"], ["bench", "nosuch", "--json"]] {
            let result = try ReverieBinary.run(arguments, timeout: 20)
            XCTAssertFalse(result.wasSignalled, "\(result)")
            XCTAssertNotEqual(result.status, 0, "\(result)")
            XCTAssertEqual(result.stdout, "", "\(result)")
            XCTAssertTrue(result.stderr.contains("nosuch"), "names the bad suite: \(result)")
            XCTAssertTrue(result.stderr.contains("available: core"), "names the suites: \(result)")
        }
    }

    func testBenchRejectsNonNumericRepeats() throws {
        let result = try ReverieBinary.run(["bench", "core", "--repeats", "many"], timeout: 20)
        XCTAssertFalse(result.wasSignalled, "\(result)")
        XCTAssertNotEqual(result.status, 0, "\(result)")
        XCTAssertTrue(result.stderr.contains("--repeats"), "\(result)")
    }
}
