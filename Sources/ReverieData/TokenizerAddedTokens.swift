/// A token matched in the raw text before pre-tokenization (`tokenizers`' `AddedToken`): special tokens such as
/// `<image>` and `<eos>`, and any extra words a vocabulary adds whole.
public struct AddedToken: Sendable, Equatable {
    public var id: Int
    public var content: String
    /// Match only when not inside a word.
    public var singleWord: Bool
    /// Swallow whitespace to the left / right of a match.
    public var lstrip: Bool
    public var rstrip: Bool
    /// Whether the token matches normalised text (Reverie has no normaliser, so this is only kept for saving).
    public var normalized: Bool
    /// Special tokens can be skipped when decoding.
    public var special: Bool

    public init(
        id: Int, content: String, singleWord: Bool = false, lstrip: Bool = false, rstrip: Bool = false,
        normalized: Bool = false, special: Bool = true
    ) {
        self.id = id
        self.content = content
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
        self.special = special
    }
}

/// A piece of input text: either ordinary text for the pre-tokenizer and BPE, or an added token's id.
enum TextSegment: Equatable {
    case text([Unicode.Scalar])
    case token(Int)
}

/// Splits text on added tokens, leftmost-longest as `tokenizers`' `AddedVocabulary` does with its Aho-Corasick
/// automaton, honouring `single_word`, `lstrip` and `rstrip`.
struct AddedTokenMatcher: Sendable {
    private let tokens: [(scalars: [Unicode.Scalar], token: AddedToken)]

    init(_ added: [AddedToken]) {
        tokens = added.filter { !$0.content.isEmpty }.map { (Array($0.content.unicodeScalars), $0) }
    }

    func split(_ text: String) -> [TextSegment] {
        let s = Array(text.unicodeScalars)
        guard !tokens.isEmpty else { return s.isEmpty ? [] : [.text(s)] }
        var segments: [TextSegment] = []
        var textStart = 0
        var i = 0
        while i < s.count {
            guard let (length, token) = longestMatch(s, at: i) else {
                i += 1
                continue
            }
            var start = i
            var end = i + length
            if token.singleWord
                && ((start > 0 && isWordScalar(s[start - 1])) || (end < s.count && isWordScalar(s[end])))
            {
                i += 1
                continue
            }
            if token.lstrip { while start > textStart && s[start - 1].properties.isWhitespace { start -= 1 } }
            if token.rstrip { while end < s.count && s[end].properties.isWhitespace { end += 1 } }
            if start > textStart { segments.append(.text(Array(s[textStart..<start]))) }
            segments.append(.token(token.id))
            textStart = end
            i = end
        }
        if textStart < s.count { segments.append(.text(Array(s[textStart...]))) }
        return segments
    }

    private func longestMatch(_ s: [Unicode.Scalar], at i: Int) -> (Int, AddedToken)? {
        var best: (Int, AddedToken)?
        for (scalars, token) in tokens where scalars.count > (best?.0 ?? 0) && i + scalars.count <= s.count {
            if s[i] == scalars[0] && s[i..<(i + scalars.count)].elementsEqual(scalars) { best = (scalars.count, token) }
        }
        return best
    }

    private func isWordScalar(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
    }
}
