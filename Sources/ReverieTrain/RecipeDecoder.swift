import Foundation
import ReverieCore

/// Decodes typed configurations (`Decodable` values) from recipe nodes, so a section's type owns its keys, defaults
/// and checks while every error still names the file, line and full dotted key.
///
/// - Scalars follow the recipe's rules: a quoted `"3"` is a string, never a number; booleans are
///   `true/false/yes/no/on/off`; integers may carry `_` separators; numbers must be finite.
/// - A `ConfigurationChoice` value must be one of its names (the error suggests the nearest).
/// - A key no decoding asked for is an error naming the nearest known key.
/// - A decoded `SelfChecking` value is validated; its `ConfigurationError` is placed at the line of its key.
public enum RecipeDecoder {
    public static func decode<T: Decodable>(_ type: T.Type, from node: RecipeNode, path: String) throws -> T {
        let state = RecipeDecodingState()
        let value: T = try NodeDecoder(node: node, path: path, state: state).decodeValue(T.self)
        try state.rejectUnknownKeys()
        return value
    }

    /// The `RecipeError` for a configuration error raised by the value at `node` (dotted `path`): at the line of
    /// the deepest node the error's key reaches.
    static func locate(_ error: ConfigurationError, in node: RecipeNode, path: String) -> RecipeError {
        var at = node
        for part in error.key.split(separator: ".").map(String.init) {
            guard let child = at[part] else { break }
            at = child
        }
        let key = [path, error.key].filter { !$0.isEmpty }.joined(separator: ".")
        return RecipeError(file: at.file, line: at.line ?? node.line, key: key, message: error.message)
    }
}

extension CodingUserInfoKey {
    /// The folder of the recipe file being decoded (a `URL`): relative paths in a recipe are relative to it.
    public static let recipeDirectory = CodingUserInfoKey(rawValue: "recipeDirectory")!
}

/// The maps decoded so far, the keys read from each and the keys asked for (read or looked for), for the
/// unknown-key check after decoding and its nearest-key hint.
final class RecipeDecodingState {
    var maps: [(path: String, node: RecipeNode)] = []
    var used: [String: Set<String>] = [:]
    var asked: [String: Set<String>] = [:]

    func register(_ node: RecipeNode, path: String) {
        if used[path] == nil {
            used[path] = []
            maps.append((path, node))
        }
    }

    func rejectUnknownKeys() throws {
        for (path, node) in maps {
            guard case let .map(pairs) = node.value else { continue }
            let read = used[path] ?? [], known = (asked[path] ?? []).union(read).sorted()
            for (key, child) in pairs where !read.contains(key) {
                let hint =
                    nearestKey(to: key, in: known).map { "; did you mean '\($0)'?" }
                    ?? "; known keys: \(known.joined(separator: ", "))"
                throw RecipeError(
                    file: child.file, line: child.line, key: path.isEmpty ? key : "\(path).\(key)",
                    message: "unknown key\(hint)")
            }
        }
    }
}

/// A `Decoder` over one recipe node.
struct NodeDecoder: Decoder {
    let node: RecipeNode
    let path: String
    let state: RecipeDecodingState
    var codingPath: [CodingKey] = []
    /// `.recipeDirectory`: the folder of the recipe file this node came from (none for a `--set` value, whose
    /// relative paths are relative to the working directory).
    var userInfo: [CodingUserInfoKey: Any] {
        node.file.hasPrefix("--set")
            ? [:] : [.recipeDirectory: URL(fileURLWithPath: node.file).deletingLastPathComponent()]
    }

    init(node: RecipeNode, path: String, state: RecipeDecodingState) {
        (self.node, self.path, self.state) = (node, path, state)
    }

    func error(_ message: String) -> RecipeError {
        RecipeError(file: node.file, line: node.line, key: path, message: message)
    }

    /// The value of this node as `T`: choices and scalars by the recipe's rules, anything else by `T(from:)`;
    /// then `validate()` for self-checking values.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            let value: T
            if let choice = T.self as? any ConfigurationChoice.Type {
                value = try decodeChoice(choice) as! T  // the cast is `T` itself
            } else if let scalar = try decodeScalar(T.self) {
                value = scalar
            } else {
                value = try T(from: self)
            }
            try (value as? SelfChecking)?.validate()
            return value
        } catch let e as ConfigurationError {
            try state.rejectUnknownKeys()  // a misspelt key explains a failed check better than the check does
            throw RecipeDecoder.locate(e, in: node, path: path)
        }
    }

    func decodeChoice(_ type: any ConfigurationChoice.Type) throws -> Any {
        let text = try scalarText("one of \(type.names.joined(separator: ", "))", allowQuoted: true)
        guard let value = type.init(rawValue: text) else {
            let hint = nearestKey(to: text, in: type.names).map { " (did you mean '\($0)'?)" } ?? ""
            throw error("'\(text)' is not one of \(type.names.joined(separator: ", "))\(hint)")
        }
        return value
    }

    /// The scalar's text; `what` names the expected kind in the error.
    func scalarText(_ what: String, allowQuoted: Bool) throws -> String {
        guard case let .scalar(s, quoted) = node.value, allowQuoted || !quoted else { throw error("must be \(what)") }
        return s
    }

    var isNull: Bool {
        if case let .scalar(s, quoted) = node.value, !quoted { return ["null", "~", ""].contains(s) }
        return false
    }

    func decodeScalar<T>(_ type: T.Type) throws -> T? {
        switch type {
        case is String.Type: return try scalarText("a string", allowQuoted: true) as? T
        case is Bool.Type: return try decodeBool() as? T
        case is Int.Type: return try decodeInteger() as? T
        case is UInt64.Type:
            let v = try decodeInteger()
            guard v >= 0 else { throw error("must be ≥ 0, got \(v)") }
            return UInt64(v) as? T
        case is Double.Type: return try decodeDouble() as? T
        case is Float.Type: return Float(try decodeDouble()) as? T
        default: return nil
        }
    }

    func decodeBool() throws -> Bool {
        switch try scalarText("true or false", allowQuoted: false).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("must be true or false")
        }
    }

    func decodeInteger() throws -> Int {
        let s = try scalarText("an integer", allowQuoted: false)
        guard let v = Int(s.replacingOccurrences(of: "_", with: "")) else {
            throw error("must be an integer, got '\(s)'")
        }
        return v
    }

    func decodeDouble() throws -> Double {
        let s = try scalarText("a number", allowQuoted: false)
        guard let v = Double(s.replacingOccurrences(of: "_", with: "")), v.isFinite else {
            throw error("must be a number, got '\(s)'")
        }
        return v
    }

    func child(_ node: RecipeNode, key: String) -> NodeDecoder {
        NodeDecoder(node: node, path: path.isEmpty ? key : "\(path).\(key)", state: state)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case let .map(pairs) = node.value else { throw error("must be a map of keys") }
        state.register(node, path: path)
        return KeyedDecodingContainer(NodeKeyedContainer<Key>(decoder: self, pairs: pairs))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case let .list(items) = node.value else { throw error("must be a list") }
        return NodeUnkeyedContainer(decoder: self, items: items)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { NodeSingleValueContainer(decoder: self) }
}

struct NodeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let pairs: [(key: String, node: RecipeNode)]
    var codingPath: [CodingKey] { [] }
    var allKeys: [Key] { pairs.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool {
        decoder.state.asked[decoder.path, default: []].insert(key.stringValue)
        return pairs.contains { $0.key == key.stringValue }
    }

    func node(_ key: Key) throws -> RecipeNode {
        decoder.state.used[decoder.path, default: []].insert(key.stringValue)
        guard let n = pairs.first(where: { $0.key == key.stringValue })?.node else {
            throw RecipeError(
                file: decoder.node.file, line: decoder.node.line,
                key: decoder.path.isEmpty ? key.stringValue : "\(decoder.path).\(key.stringValue)",
                message: "missing")
        }
        return n
    }

    func decodeNil(forKey key: Key) throws -> Bool { decoder.child(try node(key), key: key.stringValue).isNull }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.child(try node(key), key: key.stringValue).decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try decoder.child(try node(key), key: key.stringValue).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try decoder.child(try node(key), key: key.stringValue).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> Decoder { decoder.child(try node(key), key: key.stringValue) }
}

struct NodeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let items: [RecipeNode]
    var codingPath: [CodingKey] { [] }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }
    var currentIndex = 0

    init(decoder: NodeDecoder, items: [RecipeNode]) { (self.decoder, self.items) = (decoder, items) }

    mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else { throw decoder.error("has too few items") }
        defer { currentIndex += 1 }
        var item = items[currentIndex]
        if item.line == nil { item.line = decoder.node.line }
        return NodeDecoder(node: item, path: "\(decoder.path)[\(currentIndex)]", state: decoder.state)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        let null = NodeDecoder(node: items[currentIndex], path: "", state: decoder.state).isNull
        if null { currentIndex += 1 }
        return null
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(T.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> Decoder { try next() }
}

struct NodeSingleValueContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [CodingKey] { [] }

    func decodeNil() -> Bool { decoder.isNull }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(T.self) }
}
