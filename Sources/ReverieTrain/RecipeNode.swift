import Foundation
import Yams

/// A parsed YAML value that remembers where it came from, so every later error can name the file and line.
public indirect enum RecipeValue: Sendable, Equatable {
    /// A scalar's text, and whether it was quoted (a quoted `"3"` is a string, never a number).
    case scalar(String, quoted: Bool)
    /// Key–value pairs in file order.
    case map([(key: String, node: RecipeNode)])
    case list([RecipeNode])

    public static func == (a: RecipeValue, b: RecipeValue) -> Bool {
        switch (a, b) {
        case let (.scalar(x, qx), .scalar(y, qy)): return x == y && qx == qy
        case let (.list(x), .list(y)): return x == y
        case let (.map(x), .map(y)): return x.map(\.key) == y.map(\.key) && x.map(\.node) == y.map(\.node)
        default: return false
        }
    }
}

/// One node of a recipe: its value, its source file and line.
public struct RecipeNode: Sendable, Equatable {
    public var value: RecipeValue
    public var file: String
    public var line: Int?

    public init(value: RecipeValue, file: String, line: Int?) {
        (self.value, self.file, self.line) = (value, file, line)
    }

    /// Parses YAML text; an empty document is an empty map.
    ///
    /// - Throws: `RecipeError` with the line of a YAML syntax error, or of a duplicate key.
    public static func parse(yaml: String, file: String) throws -> RecipeNode {
        try RecipeYAMLLimits.check(yaml, file: file)
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw RecipeError(file: file, line: yamlErrorLine(error), key: "", message: "invalid YAML: \(error)")
        }
        guard let node else { return RecipeNode(value: .map([]), file: file, line: 1) }
        var values = 0
        return try convert(node, file: file, path: "", values: &values)
    }

    /// Reads and parses a recipe file.
    public static func load(_ url: URL) throws -> (node: RecipeNode, text: String) {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw RecipeError(file: url.path, line: nil, key: "", message: "cannot read the recipe file")
        }
        return (try parse(yaml: text, file: url.path), text)
    }

    static func convert(_ node: Node, file: String, path: String, values: inout Int) throws -> RecipeNode {
        let line = node.mark?.line
        try RecipeYAMLLimits.count(&values, file: file, line: line)
        switch node {
        case let .scalar(s):
            return RecipeNode(
                value: .scalar(s.string, quoted: s.style != .plain && s.style != .any), file: file,
                line: line)
        case let .sequence(seq):
            var items: [RecipeNode] = []
            for (i, item) in seq.enumerated() {
                items.append(try convert(item, file: file, path: "\(path)[\(i)]", values: &values))
            }
            return RecipeNode(value: .list(items), file: file, line: line)
        case let .mapping(mapping):
            var pairs: [(key: String, node: RecipeNode)] = []
            for (k, v) in mapping {
                guard case let .scalar(ks) = k else {
                    throw RecipeError(file: file, line: k.mark?.line, key: path, message: "keys must be plain text")
                }
                let key = path.isEmpty ? ks.string : "\(path).\(ks.string)"
                if pairs.contains(where: { $0.key == ks.string }) {
                    throw RecipeError(file: file, line: k.mark?.line, key: key, message: "duplicate key")
                }
                pairs.append((ks.string, try convert(v, file: file, path: key, values: &values)))
            }
            return RecipeNode(value: .map(pairs), file: file, line: line)
        }
    }

    static func yamlErrorLine(_ error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _):
            return mark.line
        default:
            return nil
        }
    }

    /// The child at `key` of a map node.
    public subscript(key: String) -> RecipeNode? {
        guard case let .map(pairs) = value else { return nil }
        return pairs.first { $0.key == key }?.node
    }

    /// Applies `--set a.b.c=value`: the value is parsed as YAML (so `--set model.projector={type: qformer}` works)
    /// and replaces or adds the key, creating maps along the path. Setting a part's `init`
    /// (`--set model.llm.init=run`) replaces the part's whole map, since a part initialised from a checkpoint takes
    /// no other options.
    ///
    /// - Throws: `RecipeError` (file `--set`) when the override has no `=`, an empty key, or walks into a
    ///   non-map value.
    public mutating func override(_ assignment: String) throws {
        guard let eq = assignment.firstIndex(of: "=") else {
            throw RecipeError(file: "--set", line: nil, key: assignment, message: "expected key=value")
        }
        let path = String(assignment[..<eq]).trimmingCharacters(in: .whitespaces)
        let text = String(assignment[assignment.index(after: eq)...])
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, !parts.contains(where: \.isEmpty) else {
            throw RecipeError(file: "--set", line: nil, key: path, message: "empty key")
        }
        var value = try RecipeNode.parse(yaml: text, file: "--set \(path)")
        if case .map(let pairs) = value.value, pairs.isEmpty, !text.contains("{") {
            value.value = .scalar(text, quoted: false)  // `--set name=` sets an empty string
        }
        if parts.count == 3, parts[0] == "model", parts[2] == "init" {
            value = RecipeNode(value: .map([("init", value)]), file: value.file, line: value.line)
            try set(parts.prefix(2), value, fullPath: path)
            return
        }
        try set(parts[...], value, fullPath: path)
    }

    mutating func set(_ parts: ArraySlice<String>, _ newValue: RecipeNode, fullPath: String) throws {
        guard let head = parts.first else {
            self = newValue
            return
        }
        guard case var .map(pairs) = value else {
            throw RecipeError(file: "--set", line: nil, key: fullPath, message: "\(head) is inside a non-map value")
        }
        if let i = pairs.firstIndex(where: { $0.key == head }) {
            try pairs[i].node.set(parts.dropFirst(), newValue, fullPath: fullPath)
        } else {
            var child = RecipeNode(value: .map([]), file: "--set \(fullPath)", line: nil)
            try child.set(parts.dropFirst(), newValue, fullPath: fullPath)
            pairs.append((head, child))
        }
        value = .map(pairs)
    }

    /// The node as YAML text again (for embedding the resolved recipe in a checkpoint).
    public func yaml(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent)
        switch value {
        case let .scalar(s, quoted):
            return quoted || s.isEmpty || s.contains(": ") || s.hasPrefix("{") ? "\"\(escaped(s))\"" : s
        case let .list(items):
            if items.isEmpty { return "[]" }
            return items.map { "\n\(pad)- \($0.yaml(indent: indent + 1).trimmingCharacters(in: .whitespaces))" }
                .joined()
        case let .map(pairs):
            if pairs.isEmpty { return "{}" }
            return pairs.map { key, node in
                switch node.value {
                case .scalar: return "\n\(pad)\(key): \(node.yaml(indent: indent + 1))"
                default:
                    let inner = node.yaml(indent: indent + 1)
                    return inner.hasPrefix("\n") ? "\n\(pad)\(key):\(inner)" : "\n\(pad)\(key): \(inner)"
                }
            }.joined()
        }
    }

    private func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
