/// A pattern over dotted parameter keys, for freezing parts of a part: components separated by dots, each a
/// literal, `*` (any one component; as the last component, everything below), or a range `3-11` (an integer
/// component within it). `llm.model.layers.0-11.*` matches every tensor of the first twelve layers.
public struct KeyPattern: Sendable, Equatable, CustomStringConvertible {
    enum Component: Sendable, Equatable {
        case literal(String)
        case any
        case range(ClosedRange<Int>)
    }

    let components: [Component]
    public let description: String

    /// Nil for an empty pattern, an empty component, or a range whose ends are not ordered integers.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !text.isEmpty, !parts.contains(where: \.isEmpty) else { return nil }
        var components: [Component] = []
        for part in parts {
            if part == "*" {
                components.append(.any)
            } else if let dash = part.firstIndex(of: "-"), let low = Int(part[..<dash]),
                let high = Int(part[part.index(after: dash)...])
            {
                guard low >= 0, low <= high else { return nil }
                components.append(.range(low...high))
            } else {
                components.append(.literal(part))
            }
        }
        (self.components, description) = (components, text)
    }

    /// Whether the pattern matches `key`.
    public func matches(_ key: String) -> Bool {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        for (i, component) in components.enumerated() {
            guard i < parts.count else { return false }
            switch component {
            case .any:
                if i == components.count - 1 { return true }
            case let .literal(text):
                guard parts[i] == text else { return false }
            case let .range(range):
                guard let n = Int(parts[i]), range.contains(n) else { return false }
            }
        }
        return parts.count == components.count
    }
}
