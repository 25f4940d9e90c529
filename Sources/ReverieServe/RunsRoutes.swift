import Foundation
import HTTPTypes
import Hummingbird

/// The runs API: `GET /v1/runs` (the listing), `GET /v1/runs/series?run=NAME` (every logged metric as
/// `[[step, value], …]`), `GET /v1/runs/sheet?run=NAME&file=step-N.png` (a sample sheet).
struct RunsRoutes: Sendable {
    let browser: RunsBrowser

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v1/runs") { _, _ in try json(["root": browser.root.path, "runs": browser.listing()]) }
        router.get("/v1/runs/series") { request, _ in
            let name = try parameter(request, "run")
            let run = try browser.run(name)
            return try json(["run": name, "series": try browser.series(name), "samples": browser.sheets(run)])
        }
        router.get("/v1/runs/sheet") { request, _ in
            let png = try browser.sheet(try parameter(request, "run"), file: try parameter(request, "file"))
            return Response(
                status: .ok, headers: [.contentType: "image/png", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
    }

    func parameter(_ request: Request, _ key: String) throws -> String {
        guard let value = request.uri.queryParameters.get(key), !value.isEmpty else {
            throw ServeError.badRequest("missing query parameter '\(key)'")
        }
        return value
    }

    func json(_ value: [String: Any]) throws -> Response { try jsonResponse(value) }
}
