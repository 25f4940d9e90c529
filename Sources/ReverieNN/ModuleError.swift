import ReverieCore

/// Errors raised by modules on input a user can supply: configurations, state dictionaries, freeze prefixes.
public enum ModuleError: Error, CustomStringConvertible, Equatable {
    /// A state dictionary that does not fit the module; the report lists every offending key.
    case stateDictMismatch(StateDictReport)
    /// `freeze(prefix:)` / `unfreeze(prefix:)` matched no parameter; `topLevel` lists the names that exist.
    case noParameterMatches(prefix: String, topLevel: [String])
    /// A module was configured with inconsistent sizes or options.
    case invalidConfiguration(module: String, detail: String)

    public var description: String {
        switch self {
        case let .stateDictMismatch(report):
            return "state dict does not match the module:\n" + report.description
        case let .noParameterMatches(prefix, topLevel):
            return "no parameter key under '\(prefix)'; top-level names are: \(topLevel.joined(separator: ", "))"
        case let .invalidConfiguration(module, detail):
            return "\(module): invalid configuration: \(detail)"
        }
    }
}

/// What a state dictionary load found: keys the module expected but did not get, keys it got but has no use for,
/// and keys present on both sides with different shapes.
public struct StateDictReport: Equatable, Sendable, CustomStringConvertible {
    /// A key whose tensor has the wrong shape.
    public struct ShapeMismatch: Equatable, Sendable {
        public let key: String
        public let expected: [Int]
        public let found: [Int]

        public init(key: String, expected: [Int], found: [Int]) {
            (self.key, self.expected, self.found) = (key, expected, found)
        }
    }

    /// Keys of the module absent from the dictionary, in `naturalKeyOrder`.
    public var missing: [String] = []
    /// Keys of the dictionary that the module does not have, in `naturalKeyOrder`.
    public var unexpected: [String] = []
    /// Keys on both sides whose shapes differ, in `naturalKeyOrder` of their keys.
    public var misShaped: [ShapeMismatch] = []
    /// Number of tensors copied into the module.
    public var loaded = 0

    /// True when every key matched in name and shape.
    public var isExact: Bool { missing.isEmpty && unexpected.isEmpty && misShaped.isEmpty }

    public var description: String {
        var lines: [String] = []
        if !missing.isEmpty { lines.append("  missing keys (\(missing.count)): " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty {
            lines.append("  unexpected keys (\(unexpected.count)): " + unexpected.joined(separator: ", "))
        }
        for m in misShaped {
            lines.append(
                "  shape mismatch for \(m.key): module has \(shapeString(m.expected)), "
                    + "state dict has \(shapeString(m.found))")
        }
        if lines.isEmpty { lines.append("  all \(loaded) keys matched") }
        return lines.joined(separator: "\n")
    }
}
