/// Trains a byte-level BPE vocabulary the way `tokenizers`' `BpeTrainer` does, so the same corpus, size and
/// special tokens give the same vocabulary and merges (with `initial_alphabet = ByteLevel.alphabet()` and
/// `min_frequency = 0`; see `tools/fixtures/tokenizer.py`).
///
/// Special tokens take ids 0…k−1, the 256 byte characters follow in code-point order, then one token per merge.
/// Merges are chosen by highest pair count, ties broken by the smaller (left id, right id), from a heap whose
/// entries carry the words to update, re-queued when their count is stale (port of `BpeTrainer::do_train`).
public struct TokenizerTrainer: Sendable {
    public var vocabularySize: Int
    public var specialTokens: [String]
    /// Pairs seen fewer times than this are not merged.
    public var minimumFrequency: Int

    public init(
        vocabularySize: Int, specialTokens: [String] = Tokenizer.reverieSpecialTokens, minimumFrequency: Int = 0
    ) {
        self.vocabularySize = vocabularySize
        self.specialTokens = specialTokens
        self.minimumFrequency = minimumFrequency
    }

    /// A tokenizer trained on `corpus` (each element one document; pre-tokenized with GPT-2's pattern).
    public func train<S: Sequence>(on corpus: S) throws -> Tokenizer where S.Element == String {
        guard vocabularySize >= specialTokens.count + 256 else {
            throw TokenizerError.invalidArgument(
                operation: "TokenizerTrainer.train",
                detail: "vocabulary size \(vocabularySize) < \(specialTokens.count) special tokens + 256 bytes")
        }
        // Word counts over the byte-level pieces.
        var wordCounts: [String: Int] = [:]
        for text in corpus {
            for piece in ByteLevel.split(text) { wordCounts[ByteLevel.encode(piece.utf8), default: 0] += 1 }
        }
        var idToWord: [String] = []
        var wordToId: [String: Int] = [:]
        for token in specialTokens where wordToId[token] == nil {
            wordToId[token] = idToWord.count
            idToWord.append(token)
        }
        for scalar in ByteLevel.byteToScalar.sorted(by: { $0.value < $1.value }) {
            let s = String(Character(scalar))
            if wordToId[s] == nil {
                wordToId[s] = idToWord.count
                idToWord.append(s)
            }
        }
        // Words as symbol ids (the byte characters are all in the alphabet), sorted for a deterministic layout.
        let entries = wordCounts.sorted { $0.key < $1.key }
        var words: [[Int]] = entries.map { entry in entry.key.unicodeScalars.map { wordToId[String(Character($0))]! } }
        let counts = entries.map(\.value)

        var pairCounts: [UInt64: Int] = [:]
        var whereToUpdate: [UInt64: Set<Int>] = [:]
        for (i, word) in words.enumerated() where word.count > 1 {
            for j in 0..<(word.count - 1) {
                let pair = BPEModel.key(word[j], word[j + 1])
                pairCounts[pair, default: 0] += counts[i]
                whereToUpdate[pair, default: []].insert(i)
            }
        }
        var queue = MergeQueue()
        for (pair, positions) in whereToUpdate where pairCounts[pair, default: 0] > 0 {
            queue.push(MergeCandidate(pair: pair, count: pairCounts[pair, default: 0], positions: positions))
        }
        whereToUpdate.removeAll()

        var merges: [(String, String)] = []
        while wordToId.count < vocabularySize, var top = queue.pop() {
            let current = pairCounts[top.pair, default: 0]
            if top.count != current {
                top.count = current
                queue.push(top)
                continue
            }
            if top.count < 1 || minimumFrequency > top.count { break }
            let left = Int(top.pair >> 32)
            let right = Int(top.pair & 0xFFFF_FFFF)
            let newToken = idToWord[left] + idToWord[right]
            let newId: Int
            if let existing = wordToId[newToken] {
                newId = existing
            } else {
                newId = idToWord.count
                idToWord.append(newToken)
                wordToId[newToken] = newId
            }
            merges.append((idToWord[left], idToWord[right]))
            for w in top.positions {
                for (pair, change) in mergePair(&words[w], left, right, newId) {
                    pairCounts[pair, default: 0] += change * counts[w]
                    if change > 0 { whereToUpdate[pair, default: []].insert(w) }
                }
            }
            for (pair, positions) in whereToUpdate where pairCounts[pair, default: 0] > 0 {
                queue.push(MergeCandidate(pair: pair, count: pairCounts[pair, default: 0], positions: positions))
            }
            whereToUpdate.removeAll()
        }

        var vocab: [String: Int] = [:]
        for (id, token) in idToWord.enumerated() { vocab[token] = id }
        let model = try BPEModel(vocab: vocab, merges: merges)
        let added = specialTokens.compactMap { token in wordToId[token].map { AddedToken(id: $0, content: token) } }
        return Tokenizer(model: model, addedTokens: added)
    }
}

/// Merges every non-overlapping occurrence of (a, b) in `word`, left to right, and returns the pair-count changes
/// (port of `tokenizers`' `Word::merge`).
private func mergePair(_ word: inout [Int], _ a: Int, _ b: Int, _ merged: Int) -> [(UInt64, Int)] {
    var changes: [(UInt64, Int)] = []
    var i = 0
    while i < word.count {
        if word[i] == a && i + 1 < word.count && word[i + 1] == b {
            if i > 0 {
                changes.append((BPEModel.key(word[i - 1], a), -1))
                changes.append((BPEModel.key(word[i - 1], merged), 1))
            }
            word[i] = merged
            word.remove(at: i + 1)
            if i < word.count - 1 {
                changes.append((BPEModel.key(b, word[i + 1]), -1))
                changes.append((BPEModel.key(merged, word[i + 1]), 1))
            }
        }
        i += 1
    }
    return changes
}

/// A pair with its count and the words that contain it.
struct MergeCandidate {
    var pair: UInt64
    var count: Int
    var positions: Set<Int>

    /// Heap order: higher count first, then the smaller pair.
    func precedes(_ other: MergeCandidate) -> Bool {
        count != other.count ? count > other.count : pair < other.pair
    }
}

/// A binary max-heap of merge candidates.
struct MergeQueue {
    private var items: [MergeCandidate] = []

    mutating func push(_ item: MergeCandidate) {
        items.append(item)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].precedes(items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> MergeCandidate? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var best = i
            if l < items.count && items[l].precedes(items[best]) { best = l }
            if r < items.count && items[r].precedes(items[best]) { best = r }
            if best == i { break }
            items.swapAt(i, best)
            i = best
        }
        return top
    }
}
