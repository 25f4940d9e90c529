import Foundation
import ReverieData

/// Editing sessions held in memory: each a tree of turns (an image and what made it), a current turn, and a last
/// use. A session untouched for `lifetime` seconds is dropped, and beyond `capacity` sessions the least recently
/// used goes. Nothing is written to disk: a client reaches only the sessions whose random ids it holds.
public actor SessionStore {
    public struct Turn: Sendable {
        public let index: Int
        /// The turn this one edited (nil for the first).
        public let parent: Int?
        /// The instruction that made it (nil for an upload), or the prompt of a generated first turn.
        public let instruction: String?
        public let image: PlanarImage
        public let png: [UInt8]
        /// The model's caption of the image.
        public let caption: String
        /// What a model with described edits said the result would be.
        public let said: String?
    }

    public struct Session: Sendable {
        public let id: String
        public var turns: [Turn]
        public var current: Int
        var lastUse: Date
    }

    let lifetime: Double
    let capacity: Int
    let maxTurns: Int
    private var sessions: [String: Session] = [:]

    public init(lifetime: Double, capacity: Int, maxTurns: Int) {
        (self.lifetime, self.capacity, self.maxTurns) = (lifetime, capacity, maxTurns)
    }

    public var count: Int { sessions.count }

    /// A new session whose first turn is `first`.
    public func create(first: Turn, now: Date = Date()) -> Session {
        expire(now: now)
        while sessions.count >= capacity, let oldest = sessions.values.min(by: { $0.lastUse < $1.lastUse }) {
            sessions[oldest.id] = nil
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let id = bytes.map { String(format: "%02x", $0) }.joined()
        let session = Session(id: id, turns: [first], current: 0, lastUse: now)
        sessions[id] = session
        return session
    }

    /// The session `id`, touched; unknown or expired ids are 404s.
    public func session(_ id: String, now: Date = Date()) throws -> Session {
        expire(now: now)
        guard var s = sessions[id] else { throw ServeError.notFound("no session \(id) (unknown, or expired)") }
        s.lastUse = now
        sessions[id] = s
        return s
    }

    /// The turn an edit starts from: `from` if given (a branch), else the current one.
    public func source(_ id: String, from: Int?) throws -> Turn {
        let s = try session(id)
        let index = from ?? s.current
        guard s.turns.indices.contains(index) else {
            throw ServeError.badRequest("session \(id) has turns 0...\(s.turns.count - 1); 'from' was \(index)")
        }
        guard s.turns.count < maxTurns else {
            throw ServeError(.conflict, "session \(id) holds its limit of \(maxTurns) turns; start a new session")
        }
        return s.turns[index]
    }

    /// Adds a turn made from turn `parent` and makes it current.
    public func append(
        _ id: String, parent: Int, instruction: String, image: PlanarImage, png: [UInt8],
        caption: String, said: String?
    ) throws -> Session {
        var s = try session(id)
        guard s.turns.count < maxTurns else {
            throw ServeError(.conflict, "session \(id) holds its limit of \(maxTurns) turns; start a new session")
        }
        s.turns.append(
            Turn(
                index: s.turns.count, parent: parent, instruction: instruction, image: image, png: png,
                caption: caption, said: said))
        s.current = s.turns.count - 1
        sessions[id] = s
        return s
    }

    /// Makes the current turn's parent current (the undone turn stays, to branch from or download).
    public func undo(_ id: String) throws -> Session {
        var s = try session(id)
        guard let parent = s.turns[s.current].parent else {
            throw ServeError(.conflict, "session \(id) is at its first turn: nothing to undo")
        }
        s.current = parent
        sessions[id] = s
        return s
    }

    /// Makes turn `index` current.
    public func select(_ id: String, turn index: Int) throws -> Session {
        var s = try session(id)
        guard s.turns.indices.contains(index) else {
            throw ServeError.notFound("session \(id) has turns 0...\(s.turns.count - 1), not \(index)")
        }
        s.current = index
        sessions[id] = s
        return s
    }

    public func remove(_ id: String) throws {
        guard sessions.removeValue(forKey: id) != nil else { throw ServeError.notFound("no session \(id)") }
    }

    /// Drops sessions idle longer than `lifetime`.
    public func expire(now: Date = Date()) {
        sessions = sessions.filter { now.timeIntervalSince($0.value.lastUse) <= lifetime }
    }
}
