/// A recipe that cannot run, named by file, line and key: `recipes/shapes/mllm.yaml:12: optim.lr: must be a number`.
public struct RecipeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The recipe file (or `--set` for a command-line override).
    public var file: String
    /// 1-based line of the offending value, when known.
    public var line: Int?
    /// The dotted key at fault (`model.projector.type`), empty for the whole file.
    public var key: String
    public var message: String

    public init(file: String, line: Int?, key: String, message: String) {
        (self.file, self.line, self.key, self.message) = (file, line, key, message)
    }

    public var description: String {
        let place = file.hasPrefix("--set") ? file : line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(place): \(message)" : "\(place): \(key): \(message)"
    }
}

/// The known key closest to `key` by edit distance, if it is close enough to be a likely typo.
func nearestKey(to key: String, in known: [String]) -> String? {
    let k = key.lowercased()
    let scored = known.map { ($0, editDistance(k, $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }) else { return nil }
    if best.1 <= max(2, key.count / 2) { return best.0 }
    // `lrate` → `lr`, `batch_size` → `batch`: a known key that starts the typo (or the other way round).
    return known.filter { k.hasPrefix($0.lowercased()) || $0.lowercased().hasPrefix(k) }
        .max(by: { $0.count < $1.count })
}

/// Levenshtein distance between two strings, by Unicode scalars.
func editDistance(_ a: String, _ b: String) -> Int {
    let (x, y) = (Array(a.unicodeScalars), Array(b.unicodeScalars))
    if x.isEmpty { return y.count }
    var row = Array(0...y.count)
    for i in 1...x.count {
        var previous = row[0]
        row[0] = i
        for j in stride(from: 1, through: y.count, by: 1) {
            let current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (x[i - 1] == y[j - 1] ? 0 : 1))
            previous = current
        }
    }
    return row[y.count]
}
