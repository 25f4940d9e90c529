import Foundation
import HTTPTypes
import Hummingbird

/// The web page: `Page/index.html`, `app.js` and `style.css`, files of this target copied beside the binary as its
/// resource bundle (`Reverie_ReverieServe.resources`), served as they are: no build step, nothing from elsewhere.
enum Page {
    static let files: [String: String] = [
        "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
        "style.css": "text/css; charset=utf-8", "runs.html": "text/html; charset=utf-8",
        "runs.js": "text/javascript; charset=utf-8",
    ]

    /// `/` shows `home` (the editing page, or the runs page when no model is loaded); `/runs` the runs page.
    static func add(to router: Router<BasicRequestContext>, home: String) {
        router.get("/") { _, _ in try response(home) }
        router.get("/runs") { _, _ in try response("runs.html") }
        router.get("/page/:file") { _, context in try response(context.parameters.get("file") ?? "") }
    }

    static func response(_ name: String) throws -> Response {
        guard let type = files[name] else { throw ServeError.notFound("no page file '\(name)'") }
        guard let folder = folder,
            let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path)
        else {
            throw ServeError(
                .internalServerError,
                "the page's files are missing: Reverie_ReverieServe.resources must sit beside the reverie binary")
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: type, .cacheControl: "no-cache",
                .contentSecurityPolicy: "default-src 'self'; img-src 'self' data: blob:",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The resource bundle's `Page` folder, beside the executable (where SwiftPM puts it), found without
    /// `Bundle.module`, which stops the process when the bundle is missing.
    static let folder: URL? = {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent(), executable.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ].compactMap { $0 }
        for base in candidates {
            let page = base.appendingPathComponent("Reverie_ReverieServe.resources/Page")
            if FileManager.default.fileExists(atPath: page.appendingPathComponent("index.html").path) { return page }
        }
        return nil
    }()
}
