/// Dotted parameter keys and their places in the file: the key `llm.layers.3.weight` of the model section is the
/// dataset `/model/llm/layers/3/weight` (docs/DESIGN.md §4), and its full key, as `inspect` prints it, is
/// `model.llm.layers.3.weight`.
enum CheckpointKeys {
    /// Why `key` cannot name a dataset, or nil if it can.
    static func problem(with key: String) -> String? {
        if key.isEmpty { return "the key is empty" }
        if key.contains("/") { return "'/' is not allowed in a key (dots separate groups)" }
        if key.contains("\0") { return "NUL is not allowed in a key" }
        if key.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            return "empty path component (leading, trailing or doubled '.')"
        }
        return nil
    }

    static func components(of key: String) -> [String] {
        key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// The HDF5 path of a dataset, relative to the root: `model/llm/layers/3/weight`.
    static func relativePath(section: CheckpointSection, key: String) -> String {
        ([section.rawValue] + components(of: key)).joined(separator: "/")
    }

    /// Splits a full key (`state.rng`) into its section and the key within it.
    static func splitSection(of fullKey: String) -> (section: CheckpointSection, key: String)? {
        guard let dot = fullKey.firstIndex(of: "."),
            let section = CheckpointSection(rawValue: String(fullKey[..<dot]))
        else { return nil }
        return (section, String(fullKey[fullKey.index(after: dot)...]))
    }

    /// Finds a key that is also the group of another key (`a.b` beside `a.b.c`): HDF5 cannot store both, since
    /// `/a/b` would have to be a dataset and a group. Returns the pair, or nil.
    static func groupConflict(in fullKeys: Set<String>) -> (dataset: String, inner: String)? {
        for key in fullKeys.sorted() {
            var prefix = ""
            for component in components(of: key).dropLast() {
                prefix += prefix.isEmpty ? component : "." + component
                if fullKeys.contains(prefix) { return (prefix, key) }
            }
        }
        return nil
    }
}
