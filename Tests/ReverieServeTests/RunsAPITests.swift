import Foundation
import ReverieServe
import XCTest

/// `reverie serve --runs DIR`: the runs under a folder, their metrics as series, their sample sheets, and nothing
/// else on disk.
final class RunsAPITests: XCTestCase {
    func testRunsTheirSeriesAndSheets() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("runs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("shapes/vae")
        try FileManager.default.createDirectory(
            at: run.appendingPathComponent("samples"), withIntermediateDirectories: true)
        try """
        {"step": 1, "loss": 0.9, "lr": 0.001, "kl": 3.5, "elapsed": 0.1}
        {"step": 2, "loss": 0.5, "lr": 0.001, "kl": 2.5, "elapsed": 0.2}
        {"step": 2, "eval": {"reconstruction": 0.75}}
        not json

        """.write(to: run.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        try "stage: vae\nseed: 1\n".write(
            to: run.appendingPathComponent("recipe.yaml"), atomically: true, encoding: .utf8)
        let sheet = Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3])
        try sheet.write(to: run.appendingPathComponent("samples/step-2.png"))
        try Data("secret".utf8).write(to: root.appendingPathComponent("secret.txt"))

        let server = try await TestServer(checkpoint: nil, runs: root)
        defer { server.stop() }
        let listing = try await server.call("GET", "/v1/runs")
        XCTAssertEqual(listing.status, 200, listing.error)
        let runs = try XCTUnwrap(listing.json["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs.first?["name"] as? String, "shapes/vae")
        XCTAssertEqual(runs.first?["stage"] as? String, "vae")
        XCTAssertEqual(runs.first?["step"] as? Int, 2)
        XCTAssertEqual(runs.first?["samples"] as? Int, 1)

        let series = try await server.call("GET", "/v1/runs/series?run=shapes/vae")
        XCTAssertEqual(series.status, 200, series.error)
        let s = try XCTUnwrap(series.json["series"] as? [String: [[Double]]])
        XCTAssertEqual(s["loss"], [[1, 0.9], [2, 0.5]])
        XCTAssertEqual(s["kl"], [[1, 3.5], [2, 2.5]])
        XCTAssertEqual(s["eval/reconstruction"], [[2, 0.75]])
        XCTAssertNil(s["elapsed"])
        XCTAssertEqual(series.json["samples"] as? [String], ["step-2.png"])

        let png = try await server.call("GET", "/v1/runs/sheet?run=shapes/vae&file=step-2.png")
        XCTAssertEqual(png.status, 200)
        XCTAssertEqual(png.data, sheet)
        for path in [
            "/v1/runs/sheet?run=shapes/vae&file=../../secret.txt", "/v1/runs/series?run=..",
            "/v1/runs/series?run=/etc", "/v1/runs/sheet?run=shapes/vae&file=step-3.png",
        ] {
            let refused = try await server.call("GET", path)
            XCTAssertEqual(refused.status, 404, path)
            XCTAssertNotEqual(refused.data, Data("secret".utf8), path)
        }
        let missing = try await server.call("GET", "/v1/runs/series")
        XCTAssertEqual(missing.status, 400)
        XCTAssertTrue(missing.error.contains("'run'"), missing.error)
        // Without a model, the model's routes are not there, and / shows the runs page.
        let caption = try await server.call("POST", "/v1/caption", body: Data([1]))
        XCTAssertEqual(caption.status, 404)
        let home = try await server.call("GET", "/")
        XCTAssertEqual(home.status, 200, home.error)
        XCTAssertTrue(String(decoding: home.data, as: UTF8.self).contains("/page/runs.js"))
    }
}
