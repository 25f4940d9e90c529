import Foundation
import ReverieData
import ReverieIO
import ReverieServe
import XCTest

/// `reverie serve`'s API on loopback with the shipped model: each endpoint, and each way a request is refused.
final class ServeAPITests: XCTestCase {
    func scenePNG(_ index: Int = 0) throws -> Data {
        let world = ShapesWorld(seed: 1_000_003)
        return Data(try Image(tensor: world.render(world.caption(at: index).scene).tensor()).encodePNG())
    }

    func testEveryEndpointOnTheShippedModel() async throws {
        let server = try await TestServer()
        defer { server.stop() }
        let health = try await server.call("GET", "/v1/health")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(health.json["image_size"] as? Int, 64)

        let caption = try await server.call("POST", "/v1/caption", body: try scenePNG())
        XCTAssertEqual(caption.status, 200, caption.error)
        XCTAssertFalse((caption.json["caption"] as? String ?? "").isEmpty)

        let drawn = try await server.call("POST", "/v1/generate", json: ["prompt": "a red circle", "noise_seed": 3])
        XCTAssertEqual(drawn.status, 200, drawn.error)
        let uri = try XCTUnwrap(drawn.json["image"] as? String)
        XCTAssertTrue(uri.hasPrefix("data:image/png;base64,"))
        let png = try XCTUnwrap(Data(base64Encoded: String(uri.dropFirst("data:image/png;base64,".count))))
        let image = try Image(encoded: [UInt8](png))
        XCTAssertEqual([image.width, image.height], [64, 64])
        XCTAssertEqual(drawn.json["noise_seed"] as? Int, 3)
        XCTAssertNotNil(drawn.json["caption"] as? String)

        let story = try await server.call(
            "POST", "/v1/interleaved", json: ["prompt": "draw a small green square in the middle on a black background"]
        )
        XCTAssertEqual(story.status, 200, story.error)
        let pieces = try XCTUnwrap(story.json["pieces"] as? [[String: String]])
        XCTAssertTrue(pieces.contains { $0["image"]?.hasPrefix("data:image/png;base64,") ?? false }, "\(pieces)")

        // A session from an upload, two edits, an undo, a branch from the first turn, downloads.
        let created = try await server.call("POST", "/v1/sessions", body: try scenePNG(1))
        XCTAssertEqual(created.status, 200, created.error)
        let id = try XCTUnwrap(created.json["id"] as? String)
        var s = try await server.call("POST", "/v1/sessions/\(id)/edit", json: ["instruction": "make it blue"])
        XCTAssertEqual(s.status, 200, s.error)
        s = try await server.call("POST", "/v1/sessions/\(id)/edit", json: ["instruction": "add a small square"])
        XCTAssertEqual(s.json["current"] as? Int, 2)
        s = try await server.call("POST", "/v1/sessions/\(id)/undo")
        XCTAssertEqual(s.json["current"] as? Int, 1)
        s = try await server.call("POST", "/v1/sessions/\(id)/edit", json: ["instruction": "remove it", "from": 0])
        XCTAssertEqual(s.status, 200, s.error)
        let turns = try XCTUnwrap(s.json["turns"] as? [[String: Any]])
        XCTAssertEqual(turns.map { $0["parent"] as? Int }, [nil, 0, 1, 0])
        XCTAssertEqual(
            turns.map { $0["instruction"] as? String }, [nil, "make it blue", "add a small square", "remove it"])
        XCTAssertTrue(turns.allSatisfy { ($0["caption"] as? String).map { !$0.isEmpty } ?? false })
        let got = try await server.call("GET", "/v1/sessions/\(id)")
        XCTAssertEqual(got.json["current"] as? Int, 3)
        let download = try await server.call("GET", try XCTUnwrap(turns[2]["image"] as? String))
        XCTAssertEqual(download.status, 200)
        XCTAssertEqual(download.headers["content-type"], "image/png")
        XCTAssertEqual(try Image(encoded: [UInt8](download.data)).width, 64)
        s = try await server.call("POST", "/v1/sessions/\(id)/select/2")
        XCTAssertEqual(s.json["current"] as? Int, 2)
        // A session that starts from a drawing.
        let drawnSession = try await server.call("POST", "/v1/sessions", json: ["prompt": "a green triangle"])
        XCTAssertEqual(drawnSession.status, 200, drawnSession.error)
        XCTAssertEqual(
            (drawnSession.json["turns"] as? [[String: Any]])?.first?["instruction"] as? String, "a green triangle")
        let r1 = try await server.call("DELETE", "/v1/sessions/\(id)")
        XCTAssertEqual(r1.status, 200)
        let r2 = try await server.call("GET", "/v1/sessions/\(id)")
        XCTAssertEqual(r2.status, 404)
    }

    func testEveryRefusalIsJSONNamingTheProblem() async throws {
        let server = try await TestServer { $0.maxBodyBytes = 64 * 1024 }
        defer { server.stop() }
        func expect(_ reply: TestServer.Reply, _ status: Int, _ words: String, line: UInt = #line) {
            XCTAssertEqual(reply.status, status, reply.error, line: line)
            XCTAssertTrue(reply.error.contains(words), "\(reply.error) lacks '\(words)'", line: line)
        }
        expect(try await server.call("POST", "/v1/caption", body: Data(count: 200 * 1024)), 413, "larger than 65536")
        expect(try await server.call("POST", "/v1/caption", body: Data("not an image".utf8)), 400, "uploaded image")
        expect(try await server.call("POST", "/v1/caption", body: Data()), 400, "empty")
        let photo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/photos/camera_gray.jpg")
        var bomb = [UInt8](try Data(contentsOf: photo))
        let sof = try XCTUnwrap(
            (0..<(bomb.count - 1)).first { bomb[$0] == 0xFF && (0xC0...0xC2).contains(bomb[$0 + 1]) })
        for offset in [sof + 5, sof + 7] { (bomb[offset], bomb[offset + 1]) = (0x7F, 0xFF) }
        expect(
            try await server.call("POST", "/v1/caption", body: Data(bomb), contentType: "image/jpeg"), 413,
            "32767×32767")
        expect(
            try await server.call("POST", "/v1/generate", body: Data("{".utf8), contentType: "application/json"), 400,
            "not JSON")
        expect(try await server.call("POST", "/v1/generate", json: ["promt": "x"]), 400, "unknown key 'promt'")
        expect(try await server.call("POST", "/v1/generate", json: ["prompt": 7]), 400, "'prompt' must be a string")
        expect(
            try await server.call("POST", "/v1/generate", json: ["prompt": "x", "sample_steps": 100_000]), 400,
            "sample_steps")
        expect(try await server.call("POST", "/v1/generate", json: ["prompt": "x", "sampler": "nope"]), 400, "sampler")
        expect(
            try await server.call("GET", "/v1/sessions/00112233445566778899aabbccddeeff"), 404, "unknown, or expired")
        expect(try await server.call("GET", "/v1/sessions/..%2F..%2Fetc%2Fpasswd"), 404, "no such session")
        expect(try await server.call("POST", "/v1/sessions/00112233445566778899aabbccddeeff/undo"), 404, "no session")
        expect(try await server.call("GET", "/v1/nothing"), 404, "no route GET /v1/nothing")
        expect(try await server.call("GET", "/page/..%2FPackage.swift"), 404, "no page file")
    }

    func testATokenIsNeededBeyondLoopbackAndChecked() async throws {
        var open = ServeOptions()
        open.host = "0.0.0.0"
        XCTAssertThrowsError(try open.validate()) { XCTAssertTrue("\($0)".contains("--token"), "\($0)") }
        open.token = "a-long-secret"
        XCTAssertNoThrow(try open.validate())
        let server = try await TestServer { $0.token = "a-long-secret" }
        defer { server.stop() }
        let refused = try await server.call("GET", "/v1/health", token: "wrong-token")
        XCTAssertEqual(refused.status, 401)
        XCTAssertTrue(refused.error.contains("Bearer"), refused.error)
        let r3 = try await server.call("GET", "/v1/health")
        XCTAssertEqual(r3.status, 200)
    }

    func testAFullQueueGets503WithRetryAfter() async throws {
        let server = try await TestServer {
            $0.workers = 1
            $0.queue = 0
        }
        defer { server.stop() }
        let replies = try await withThrowingTaskGroup(of: TestServer.Reply.self) { group in
            for seed in 0..<3 {
                group.addTask {
                    try await server.call(
                        "POST", "/v1/generate",
                        json: ["prompt": "a red circle", "noise_seed": seed, "sample_steps": 40])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertTrue(replies.contains { $0.status == 200 })
        let busy = replies.filter { $0.status == 503 }
        XCTAssertFalse(busy.isEmpty, "\(replies.map(\.status))")
        XCTAssertEqual(busy.first?.headers["retry-after"], "5")
        XCTAssertTrue(busy.first?.error.contains("busy") ?? false)
    }

    func testARequestPastItsLimitIsStoppedWith504() async throws {
        let server = try await TestServer { $0.requestSeconds = 0.5 }
        defer { server.stop() }
        let started = Date()
        let slow = try await server.call(
            "POST", "/v1/generate", json: ["prompt": "a red circle", "sample_steps": 200, "guidance": 3])
        XCTAssertEqual(slow.status, 504, slow.error)
        XCTAssertTrue(slow.error.contains("limit of 0.5 s"), slow.error)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "stopped between steps, not after all 200")
        // The reply leaves at the deadline; the worker stops at its next step boundary, which on a busy machine can
        // come a moment later. It must come, and soon.
        var load = try await server.call("GET", "/v1/health").json["load"] as? Int
        let waited = Date()
        while load != 0, Date().timeIntervalSince(waited) < 10 {
            try await Task.sleep(nanoseconds: 50_000_000)
            load = try await server.call("GET", "/v1/health").json["load"] as? Int
        }
        XCTAssertEqual(load, 0, "the worker is free again")
    }

    func testIdleSessionsExpire() async throws {
        let server = try await TestServer { $0.sessionSeconds = 1 }
        defer { server.stop() }
        let created = try await server.call("POST", "/v1/sessions", body: try scenePNG())
        let id = try XCTUnwrap(created.json["id"] as? String)
        let held = try await server.call("GET", "/v1/health")
        XCTAssertEqual(held.json["sessions"] as? Int, 1)
        try await Task.sleep(nanoseconds: 2_500_000_000)
        // Freed with no request touching it (the health check only counts).
        let freed = try await server.call("GET", "/v1/health")
        XCTAssertEqual(freed.json["sessions"] as? Int, 0)
        let gone = try await server.call("GET", "/v1/sessions/\(id)")
        XCTAssertEqual(gone.status, 404)
    }
}
