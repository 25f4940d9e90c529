/// A configuration value that cannot work, named by its key relative to the value being checked
/// (`heads`, `options.queries`). The layer that read the value (a recipe, a checkpoint's `model_config`) turns it
/// into an error naming its file and line; types that own a configuration throw this from their `validate()`.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Dotted key at fault, relative to the configuration that threw; empty for the whole value.
    public var key: String
    public var message: String

    public init(key: String, _ message: String) {
        (self.key, self.message) = (key, message)
    }

    /// The same error with `prefix.` in front of its key (a nested configuration's error seen from its parent).
    public func nested(under prefix: String) -> ConfigurationError {
        ConfigurationError(key: key.isEmpty ? prefix : "\(prefix).\(key)", message)
    }

    public var description: String { key.isEmpty ? message : "\(key): \(message)" }
}

/// A configuration that checks itself: defaults live on its stored properties, checks in `validate()`.
public protocol SelfChecking {
    /// Throws `ConfigurationError` naming the first key whose value cannot work.
    func validate() throws
}

extension SelfChecking {
    public func validate() throws {}
}

/// A string-valued choice in a configuration (`prediction: sample`), so decoders can name the valid values.
public protocol ConfigurationChoice: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension ConfigurationChoice {
    /// Every valid value, in declaration order.
    public static var names: [String] { allCases.map(\.rawValue) }
}
