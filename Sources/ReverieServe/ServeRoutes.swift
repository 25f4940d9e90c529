import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReverieData
import ReverieRuntime

/// The HTTP API: JSON in and out, PNG for images (`GET …/turns/N.png`, or base64 inside JSON where a response
/// carries several things). Every model call goes through the worker pool; every error is `{"error": "…"}`.
struct ServeRoutes: Sendable {
    let model: ServedModel
    let options: ServeOptions
    let pool: WorkerPool
    let sessions: SessionStore

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v1/health") { _, _ in
            var h = health()
            h["sessions"] = await sessions.count
            return try json(h)
        }
        router.post("/v1/caption") { request, _ in
            let upload = try await body(request)
            let caption = try await pool.run { [model] in try model.caption(model.image(fromUpload: upload)) }
            return try json(["caption": caption])
        }
        router.post("/v1/generate") { request, _ in
            let (prompt, drawing) = try await promptRequest(request)
            let (png, caption) = try await pool.run { [model] in
                let image = try model.generate(prompt, drawing: drawing)
                return (try model.png(image), try model.caption(image))
            }
            return try json([
                "image": "data:image/png;base64," + Data(png).base64EncodedString(), "caption": caption,
                "noise_seed": drawing.seed,
            ])
        }
        router.post("/v1/interleaved") { request, _ in
            let req = try JSONRequest(
                try await buffer(request), known: JSONRequest.drawingKeys.union(["prompt", "max_images"]))
            let prompt = try req.text("prompt")
            let maxImages = try req.integer("max_images") ?? 4
            guard (1...8).contains(maxImages) else { throw ServeError.badRequest("'max_images' must be in 1...8") }
            let drawing = try req.drawing(over: model.drawing, maxSteps: options.maxSteps)
            let pieces = try await pool.run { [model] in
                try model.interleaved(prompt, maxImages: maxImages, drawing: drawing).map { piece -> [String: String] in
                    if let text = piece.text { return ["text": text] }
                    return ["image": "data:image/png;base64," + Data(try model.png(piece.image!)).base64EncodedString()]
                }
            }
            return try json(["pieces": pieces])
        }
        router.post("/v1/sessions") { request, _ in try json(view(try await createSession(request))) }
        router.get("/v1/sessions/:id") { _, context in try json(view(try await sessions.session(id(context)))) }
        router.delete("/v1/sessions/:id") { _, context in
            try await sessions.remove(try id(context))
            return try json(["deleted": try id(context)])
        }
        router.post("/v1/sessions/:id/edit") { request, context in
            try json(view(try await edit(request, session: try id(context))))
        }
        router.post("/v1/sessions/:id/undo") { _, context in try json(view(try await sessions.undo(id(context)))) }
        router.post("/v1/sessions/:id/select/:turn") { _, context in
            try json(view(try await sessions.select(id(context), turn: turn(context))))
        }
        router.get("/v1/sessions/:id/turns/:turn") { _, context in
            let s = try await sessions.session(try id(context))
            let n = try turn(context)
            guard s.turns.indices.contains(n) else {
                throw ServeError.notFound("session \(s.id) has turns 0...\(s.turns.count - 1), not \(n)")
            }
            return Response(
                status: .ok,
                headers: [
                    .contentType: "image/png", .contentDisposition: "attachment; filename=\"turn-\(n).png\"",
                    .cacheControl: "no-store",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: s.turns[n].png)))
        }
    }

    /// A session from an uploaded image (any image content type) or from `{"prompt": …}` (a drawing as its
    /// first turn).
    func createSession(_ request: Request) async throws -> SessionStore.Session {
        let isJSON = request.headers[.contentType]?.lowercased().hasPrefix("application/json") ?? false
        let first: SessionStore.Turn
        if isJSON {
            let (prompt, drawing) = try await promptRequest(request)
            first = try await pool.run { [model] in
                let image = try model.generate(prompt, drawing: drawing)
                return SessionStore.Turn(
                    index: 0, parent: nil, instruction: prompt, image: image, png: try model.png(image),
                    caption: try model.caption(image), said: nil)
            }
        } else {
            let upload = try await body(request)
            first = try await pool.run { [model] in
                let image = try model.image(fromUpload: upload)
                return SessionStore.Turn(
                    index: 0, parent: nil, instruction: nil, image: image, png: try model.png(image),
                    caption: try model.caption(image), said: nil)
            }
        }
        return await sessions.create(first: first)
    }

    /// `{"prompt": …, …drawing}`: what a drawing is asked for with.
    func promptRequest(_ request: Request) async throws -> (String, DrawingOptions) {
        let req = try JSONRequest(try await buffer(request), known: JSONRequest.drawingKeys.union(["prompt"]))
        return (try req.text("prompt"), try req.drawing(over: model.drawing, maxSteps: options.maxSteps))
    }

    /// `{"instruction": …, "from": N?}`: edits turn N (a branch) or the current turn, and makes the result current.
    func edit(_ request: Request, session id: String) async throws -> SessionStore.Session {
        let req = try JSONRequest(
            try await buffer(request), known: JSONRequest.drawingKeys.union(["instruction", "from"]))
        let (instruction, from) = (try req.text("instruction"), try req.integer("from"))
        let drawing = try req.drawing(over: model.drawing, maxSteps: options.maxSteps)
        let source = try await sessions.source(id, from: from)
        let (image, png, caption, said) = try await pool.run { [model] in
            let (image, said) = try model.edit(source.image, instruction, drawing: drawing)
            return (image, try model.png(image), try model.caption(image), said)
        }
        return try await sessions.append(
            id, parent: source.index, instruction: instruction, image: image, png: png, caption: caption, said: said)
    }

    func health() -> [String: Any] {
        [
            "checkpoint": model.checkpoint.lastPathComponent, "image_size": model.imageSize,
            "workers": pool.workers, "queue": pool.queue, "load": pool.load,
        ]
    }

    func view(_ s: SessionStore.Session) -> [String: Any] {
        [
            "id": s.id, "current": s.current,
            "turns": s.turns.map { t -> [String: Any] in
                var turn: [String: Any] = [
                    "index": t.index, "caption": t.caption, "image": "/v1/sessions/\(s.id)/turns/\(t.index).png",
                ]
                if let p = t.parent { turn["parent"] = p }
                if let i = t.instruction { turn["instruction"] = i }
                if let said = t.said { turn["said"] = said }
                return turn
            },
        ]
    }

    func id(_ context: BasicRequestContext) throws -> String {
        guard let id = context.parameters.get("id"), id.count == 32, id.allSatisfy(\.isHexDigit) else {
            throw ServeError.notFound("no such session")
        }
        return id
    }

    func turn(_ context: BasicRequestContext) throws -> Int {
        let raw = context.parameters.get("turn") ?? ""
        let digits = raw.hasSuffix(".png") ? String(raw.dropLast(4)) : raw
        guard let n = Int(digits), n >= 0 else { throw ServeError.notFound("no turn '\(raw)'") }
        return n
    }

    /// The request body, at most `maxBodyBytes`.
    func buffer(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: options.maxBodyBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw ServeError(.contentTooLarge, "the body is larger than \(options.maxBodyBytes) bytes")
        } catch is NIOTooManyBytesError {
            throw ServeError(.contentTooLarge, "the body is larger than \(options.maxBodyBytes) bytes")
        }
    }

    func body(_ request: Request) async throws -> [UInt8] {
        let b = try await buffer(request)
        guard b.readableBytes > 0 else { throw ServeError.badRequest("the body is empty; send a PNG or JPEG image") }
        return Array(b.readableBytesView)
    }

    func json(_ value: [String: Any]) throws -> Response { try jsonResponse(value) }
}
