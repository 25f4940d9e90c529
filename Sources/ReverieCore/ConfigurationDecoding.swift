extension KeyedDecodingContainer {
    /// Replaces `value` with the one stored at `key` when there is one: the property's initial value is the
    /// default, stated once, and the stored value (recipe or checkpoint) overrides it.
    public func update<T: Decodable>(_ value: inout T, _ key: Key) throws {
        if let stored = try decodeIfPresent(T.self, forKey: key) { value = stored }
    }
}

/// Throws `ConfigurationError(key:message)` unless `condition` holds.
@inline(__always)
public func require(_ condition: Bool, _ key: String, _ message: @autoclosure () -> String) throws {
    if !condition { throw ConfigurationError(key: key, message()) }
}

/// Throws unless `value` is in `range` (sizes a configuration may ask for; bounded so that a typo cannot ask for
/// terabytes).
public func require(_ value: Int, in range: ClosedRange<Int>, _ key: String) throws {
    try require(range.contains(value), key, "must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
}
