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
    /// Id of each one-scalar token (the initial symbols of a character-level BPE).
    private var scalarIds: [UInt32: Int] = [:]
    /// Id of each SentencePiece byte token `<0xAB>`, by byte.
    private var fallbackIds: [Int?]
    var options: BPEOptions

    /// Builds the merge table. Throws a message (the caller adds file and key) naming a bad merge.
    init(vocab: [String: Int], merges: [(String, String)], options: BPEOptions = BPEOptions()) throws {
        self.vocab = vocab
        self.merges = merges
        self.options = options
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
        for (token, id) in vocab {
            let scalars = token.unicodeScalars
            if scalars.count == 1, let c = scalars.first { scalarIds[c.value] = id }
        }
        fallbackIds = (0..<256).map { vocab[String(format: "<0x%02X>", $0)] }
    }

    /// Token ids of one pre-tokenized piece of a character-level BPE (SentencePiece style): each scalar is its
    /// token, else its UTF-8 bytes' `<0xAB>` tokens (`byte_fallback`), else the unknown token (consecutive unknowns
    /// fused with `fuse_unk`), as `tokenizers`' `merge_word`; then the merges.
    func tokenize(scalars: [Unicode.Scalar]) -> [Int] {
        if options.ignoreMerges, let id = vocab[String(scalars: scalars)] { return [id] }
        var symbols: [Int] = []
        symbols.reserveCapacity(scalars.count)
        var unknown: Int?  // an unknown token waiting to be added (so that the next unknown can fuse with it)
        for c in scalars {
            if let id = scalarIds[c.value] {
                if let u = unknown { symbols.append(u) }
                unknown = nil
                symbols.append(id)
                continue
            }
            if options.byteFallback {
                let bytes = fallbackBytes(c)
                if !bytes.contains(nil) {
                    symbols += bytes.map { $0! }
                    continue
                }
            }
            if let unk = options.unknown {
                if let u = unknown, !options.fuseUnknown { symbols.append(u) }
                unknown = unk
            }
        }
        if let u = unknown { symbols.append(u) }
        return merge(symbols)
    }

    private func fallbackBytes(_ c: Unicode.Scalar) -> [Int?] { Array(String(c).utf8).map { fallbackIds[Int($0)] } }

    @inline(__always) static func key(_ a: Int, _ b: Int) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }

    /// Token ids of one pre-tokenized piece given as raw UTF-8 bytes: start from byte symbols, then repeatedly
    /// merge the adjacent pair of lowest rank (leftmost first) until none applies, as `tokenizers`' `merge_all`.
    func tokenize(bytes: [UInt8]) -> [Int] {
        if options.ignoreMerges, let id = vocab[ByteLevel.encode(bytes)] { return [id] }
        return merge(bytes.compactMap { byteIds[Int($0)] })  // bytes missing from the vocabulary are dropped
    }

    /// Repeatedly merges the adjacent pair of lowest rank (leftmost first) until none applies.
    private func merge(_ initial: [Int]) -> [Int] {
        var symbols = initial
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

/// The BPE model options of real `tokenizer.json` files beyond GPT-2's.
struct BPEOptions: Sendable, Equatable {
    /// A scalar missing from the vocabulary becomes its bytes' `<0xAB>` tokens.
    var byteFallback = false
    /// The id of `unk_token`, for scalars with no token (and no byte tokens).
    var unknown: Int?
    /// Consecutive unknown scalars give one unknown token.
    var fuseUnknown = false
    /// A piece that is itself a vocabulary token is that token, whatever the merges would make of it (Llama-3).
    var ignoreMerges = false
}

enum BPEModelError: Error {
    case unknownMergePart(index: Int, merge: String)
    case missingMergeResult(index: Int, merge: String)
}
