import Foundation
import ReverieServe
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A `reverie serve` running in this process on a free loopback port, with the shipped model, until `stop()`.
final class TestServer: @unchecked Sendable {
    static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../checkpoints/shapes/model.h5"
    ).standardizedFileURL

    let port: Int
    let token: String?
    private let task: Task<Void, Error>

    init(checkpoint: URL? = TestServer.model, runs: URL? = nil, _ configure: (inout ServeOptions) -> Void = { _ in })
        async throws
    {
        var options = ServeOptions()
        options.port = 0
        configure(&options)
        token = options.token
        let ports = AsyncStream<Int>.makeStream()
        let frozen = options
        task = Task {
            defer { ports.continuation.finish() }
            try await ReverieServer.run(checkpoint: checkpoint, runs: runs, options: frozen) {
                ports.continuation.yield($0)
            }
        }
        var bound: Int?
        for await p in ports.stream {
            bound = p
            break
        }
        guard let bound else {
            _ = try await task.value  // the server's own error
            throw CocoaError(.featureUnsupported)
        }
        port = bound
    }

    func stop() { task.cancel() }

    struct Reply {
        let status: Int
        let data: Data
        let headers: [String: String]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
        var error: String { json["error"] as? String ?? "" }
    }

    func call(
        _ method: String, _ path: String, json: Any? = nil, body: Data? = nil, contentType: String? = nil,
        token: String? = nil
    ) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 300
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
            request.setValue(contentType ?? "image/png", forHTTPHeaderField: "Content-Type")
        }
        if let token = token ?? self.token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers["\(k)".lowercased()] = "\(v)" }
        return Reply(status: http.statusCode, data: data, headers: headers)
    }
}
