import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ReverieCore

/// `reverie serve`: the model loaded once, the HTTP API (`ServeRoutes`) and the web page, on Hummingbird.
public enum ReverieServer {
    /// Serves until the process is stopped: the model of `checkpoint` (the API and the editing page), the training
    /// runs under `runs` (their page), or both. `ready` gets the bound port once the server listens (port 0 picks
    /// one).
    public static func run(
        checkpoint: URL?, runs: URL? = nil, options: ServeOptions, ready: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws {
        try options.validate()
        let sessions = SessionStore(
            lifetime: options.sessionSeconds, capacity: options.maxSessions, maxTurns: options.maxTurns)
        let router = Router()
        router.add(middleware: ErrorsAsJSON())
        if let token = options.token { router.add(middleware: BearerToken(token: token)) }
        if let checkpoint {
            let model = try ServedModel(checkpoint: checkpoint, maxImagePixels: options.maxImagePixels)
            let routes = ServeRoutes(
                model: model, options: options,
                pool: WorkerPool(workers: options.workers, queue: options.queue, patience: options.requestSeconds),
                sessions: sessions)
            routes.add(to: router)
        }
        if let runs { RunsRoutes(browser: RunsBrowser(root: runs)).add(to: router) }
        Page.add(to: router, home: checkpoint != nil ? "index.html" : "runs.html")
        var logger = Logger(label: "reverie.serve")
        logger.logLevel = .warning
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "reverie"),
            onServerRunning: { channel in ready(channel.localAddress?.port ?? options.port) },
            logger: logger)
        // Idle sessions go even when no request comes to notice them.
        let sweeper = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(max(min(options.sessionSeconds / 4, 60), 0.5) * 1e9))
                await sessions.expire()
            }
        }
        defer { sweeper.cancel() }
        try await ThreadPolicy.runningJobsSideBySide(options.workers) { try await app.runService() }
    }
}

/// Every error a request meets leaves as `{"error": "…"}` with its status: the server's own, Hummingbird's (no such
/// route, a body too large) and anything else (500, with its message).
struct ErrorsAsJSON<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as ServeError {
            throw error
        } catch let error as HTTPError {
            let message =
                error.status == .notFound
                ? "no route \(request.method) \(request.uri.path)" : (error.body ?? error.status.reasonPhrase)
            throw ServeError(error.status, message)
        } catch {
            throw ServeError(.internalServerError, "\(error)")
        }
    }
}

/// `Authorization: Bearer <token>` on every API request (the page itself is public: it holds nothing).
struct BearerToken<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.uri.path.hasPrefix("/v1/") {
            guard let given = request.headers[.authorization], given == "Bearer \(token)" else {
                throw ServeError(.unauthorized, "this server needs 'Authorization: Bearer <token>'")
            }
        }
        return try await next(request, context)
    }
}
