import Foundation
import ReverieCore

/// Everything `reverie serve` can be told, with its defaults and checks: where it listens, who may call it, and the
/// bounds that keep one client from taking the server down (body size, pixels, queue, time, sessions).
public struct ServeOptions: Sendable, SelfChecking {
    /// The address to bind; anything but loopback needs `token`.
    public var host = "127.0.0.1"
    /// The TCP port (0: any free port, reported once bound).
    public var port = 8080
    /// The bearer token every `/v1` request must carry (`Authorization: Bearer …`); nil: none asked.
    public var token: String?
    /// Requests that run the model at once: one per core by default, each on its own core (a single worker spreads
    /// its one request over every core instead).
    public var workers = ThreadPolicy.threads
    /// Model requests that may wait for a worker; one more is refused with 503 and Retry-After.
    public var queue = 8
    /// The largest request body read, in bytes (an image upload or a JSON request).
    public var maxBodyBytes = 16 << 20
    /// The largest image an upload may declare, in pixels (checked from the header, before decoding).
    public var maxImagePixels = 16 << 20
    /// A model request must be done this many seconds after it arrives: one still waiting is refused (503), one still
    /// running is stopped between two steps (504).
    public var requestSeconds = 120.0
    /// An editing session untouched this long is dropped and its memory freed.
    public var sessionSeconds = 1800.0
    /// Sessions held at once; a new one beyond this drops the least recently used.
    public var maxSessions = 64
    /// Turns one session may hold.
    public var maxTurns = 64
    /// The most denoising steps a request may ask for.
    public var maxSteps = 200

    public init() {}

    public func validate() throws {
        try require(port, in: 0...65_535, "port")
        try require(workers, in: 1...64, "workers")
        try require(queue, in: 0...10_000, "queue")
        try require(maxBodyBytes, in: 1024...(1 << 30), "max_body_bytes")
        try require(maxImagePixels, in: 64...(1 << 27), "max_image_pixels")
        try require(requestSeconds > 0 && requestSeconds <= 86_400, "request_seconds", "must be in (0, 86400]")
        try require(sessionSeconds > 0 && sessionSeconds <= 7 * 86_400, "session_seconds", "must be in (0, 604800]")
        try require(maxSessions, in: 1...100_000, "max_sessions")
        try require(maxTurns, in: 2...10_000, "max_turns")
        try require(maxSteps, in: 1...10_000, "max_steps")
        if let token {
            try require(token.count >= 8, "token", "must be at least 8 characters")
        } else {
            try require(
                Self.isLoopback(host), "token",
                "binding \(host) exposes the model beyond this machine: give --token (or REVERIE_SERVE_TOKEN)")
        }
    }

    /// Whether `host` names this machine only (127.0.0.0/8, ::1, localhost).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
