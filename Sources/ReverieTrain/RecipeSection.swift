import ReverieCore

/// Typed reading of one map of a recipe. Every read records its key; `finish()` then rejects any key nobody read,
/// suggesting the nearest known one. Errors carry the file, the line and the full dotted key.
public final class RecipeSection {
    public let node: RecipeNode
    /// Dotted path of this map (`model.llm`), empty at the top.
    public let path: String
    private var pairs: [(key: String, node: RecipeNode)]
    private var known: [String] = []

    public init(_ node: RecipeNode, path: String = "") throws {
        self.node = node
        self.path = path
        switch node.value {
        case let .map(p): pairs = p
        default: throw RecipeError(file: node.file, line: node.line, key: path, message: "must be a map of keys")
        }
    }

    public var file: String { node.file }
    public var keys: [String] { pairs.map(\.key) }

    public func fullKey(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The error for `key`, at its line when present (else this map's line).
    public func error(_ key: String, _ message: String) -> RecipeError {
        let n = pairs.first { $0.key == key }?.node ?? node
        return RecipeError(file: n.file, line: n.line, key: fullKey(key), message: message)
    }

    /// The raw node at `key`, marking it known.
    public func raw(_ key: String) -> RecipeNode? {
        if !known.contains(key) { known.append(key) }
        return pairs.first { $0.key == key }?.node
    }

    public func has(_ key: String) -> Bool { pairs.contains { $0.key == key } }

    private func scalar(_ key: String, _ kind: String) throws -> (String, RecipeNode)? {
        guard let n = raw(key) else { return nil }
        guard case let .scalar(s, quoted) = n.value, !(quoted && kind != "a string") else {
            throw RecipeError(file: n.file, line: n.line, key: fullKey(key), message: "must be \(kind)")
        }
        return (s, n)
    }

    public func string(_ key: String) throws -> String? { try scalar(key, "a string")?.0 }
    public func string(_ key: String, default d: String) throws -> String { try string(key) ?? d }

    public func int(_ key: String) throws -> Int? {
        guard let (s, n) = try scalar(key, "an integer") else { return nil }
        guard let v = Int(s.replacingOccurrences(of: "_", with: "")) else {
            throw RecipeError(file: n.file, line: n.line, key: fullKey(key), message: "must be an integer, got '\(s)'")
        }
        return v
    }

    /// An integer ≥ `min` (default 1).
    public func int(_ key: String, default d: Int, min: Int = 1) throws -> Int {
        let v = try int(key) ?? d
        guard v >= min else { throw error(key, "must be ≥ \(min), got \(v)") }
        return v
    }

    /// A list of scalars read by `read`.
    public func list<T>(_ key: String, _ what: String, _ read: (String) -> T?) throws -> [T]? {
        guard let n = raw(key) else { return nil }
        guard case let .list(items) = n.value else {
            throw RecipeError(file: n.file, line: n.line, key: fullKey(key), message: "must be a list of \(what)")
        }
        return try items.enumerated().map { i, item in
            guard case let .scalar(s, _) = item.value, let v = read(s) else {
                throw RecipeError(
                    file: item.file, line: item.line ?? n.line, key: "\(fullKey(key))[\(i)]",
                    message: "must be \(what)")
            }
            return v
        }
    }

    public func strings(_ key: String) throws -> [String]? { try list(key, "strings") { $0 } }

    /// The sub-map at `key`, nil when absent.
    public func section(_ key: String) throws -> RecipeSection? {
        guard let n = raw(key) else { return nil }
        return try RecipeSection(n, path: fullKey(key))
    }

    /// Rejects the first key no read asked for, naming the nearest known key.
    public func finish() throws {
        for (key, n) in pairs where !known.contains(key) {
            let hint =
                nearestKey(to: key, in: known).map { "; did you mean '\($0)'?" }
                ?? "; known keys: \(known.joined(separator: ", "))"
            throw RecipeError(file: n.file, line: n.line, key: fullKey(key), message: "unknown key\(hint)")
        }
    }
}
