/// The BPE model: a vocabulary, ranked merges, and the merge loop (port of `tokenizers`' `models::bpe`).
struct BPEModel: Sendable {
    /// Token string → id.
    var vocab: [String: Int]
    /// Id → token string (nil for ids not in the model's vocabulary).
    var tokens: [String?]
    /// Merges in rank order (the first is applied first).
    var merges: [(String, String)]
    /// (left id, right id) packed into one key → (rank, merged id).
    private var mergeTable: [UInt64: (rank: Int, id: Int)]
    /// Initial symbol id of each byte (nil when the vocabulary lacks that byte's character).
    private var byteIds: [Int?]

    /// Builds the merge table. Throws a message (the caller adds file and key) naming a bad merge.
    init(vocab: [String: Int], merges: [(String, String)]) throws {
        self.vocab = vocab
        self.merges = merges
        let size = (vocab.values.max() ?? -1) + 1
        var tokens = [String?](repeating: nil, count: size)
        for (token, id) in vocab { tokens[id] = token }
        self.tokens = tokens
        var table: [UInt64: (rank: Int, id: Int)] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let left = vocab[a], let right = vocab[b] else {
                throw BPEModelError.unknownMergePart(index: rank, merge: "\(a) \(b)")
            }
            guard let merged = vocab[a + b] else {
                throw BPEModelError.missingMergeResult(index: rank, merge: "\(a) \(b)")
            }
            let key = Self.key(left, right)
            table[key] = (rank, merged)  // as tokenizers collects its merge map: a repeated pair keeps its last rank
        }
        self.mergeTable = table
        self.byteIds = ByteLevel.byteToScalar.map { vocab[String(Character($0))] }
    }

    @inline(__always) static func key(_ a: Int, _ b: Int) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }

    /// Token ids of one pre-tokenized piece given as raw UTF-8 bytes: start from byte symbols, then repeatedly
    /// merge the adjacent pair of lowest rank (leftmost first) until none applies, as `tokenizers`' `merge_all`.
    func tokenize(bytes: [UInt8]) -> [Int] {
        var symbols = bytes.compactMap { byteIds[Int($0)] }  // bytes missing from the vocabulary are dropped
        while symbols.count > 1 {
            var best = Int.max
            var at = -1
            var merged = 0
            for i in 0..<(symbols.count - 1) {
                if let m = mergeTable[Self.key(symbols[i], symbols[i + 1])], m.rank < best {
                    best = m.rank
                    at = i
                    merged = m.id
                }
            }
            if at < 0 { break }
            symbols[at] = merged
            symbols.remove(at: at + 1)
        }
        return symbols
    }
}

enum BPEModelError: Error {
    case unknownMergePart(index: Int, merge: String)
    case missingMergeResult(index: Int, merge: String)
}
