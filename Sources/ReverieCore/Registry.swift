import Foundation

/// Kinds of one family (projectors, samplers, stages, output modes, data sources) by the name a recipe gives them.
/// A new kind is one file and one `register` line; the built-in ones are registered where the family is defined,
/// and anyone (a test, a plug-in) may add more at run time.
public final class Registry<Entry>: @unchecked Sendable {
    /// What the family is called in errors (`projector`, `sampler`).
    public let family: String
    private var entries: [String: Entry]
    private let lock = NSLock()

    public init(family: String, _ builtIn: [String: Entry] = [:]) {
        (self.family, entries) = (family, builtIn)
    }

    /// Adds or replaces the kind `name`.
    public func register(_ name: String, _ entry: Entry) {
        lock.lock()
        defer { lock.unlock() }
        entries[name] = entry
    }

    /// Removes `name` (tests that register a toy kind take it out again).
    public func unregister(_ name: String) {
        lock.lock()
        defer { lock.unlock() }
        entries[name] = nil
    }

    /// The registered names, sorted.
    public var kinds: [String] {
        lock.lock()
        defer { lock.unlock() }
        return entries.keys.sorted()
    }

    /// The kind `name`, or a `ConfigurationError` at `key` that lists the known kinds.
    public func entry(_ name: String, key: String = "type") throws -> Entry {
        lock.lock()
        let found = entries[name]
        lock.unlock()
        guard let found else {
            throw ConfigurationError(key: key, "unknown \(family) '\(name)'; known: \(kinds.joined(separator: ", "))")
        }
        return found
    }
}
