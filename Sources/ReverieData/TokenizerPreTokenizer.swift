/// One step of a `tokenizer.json` pre-tokenizer (port of the `tokenizers` pre-tokenizers real checkpoints use).
/// A step splits every piece further; a `Sequence` applies its steps in order.
enum PreTokenizerStep: Sendable, Equatable {
    /// GPT-2's ByteLevel: optionally a leading space, optionally GPT-2's split pattern; its byte mapping is applied
    /// once, after every step (`PreTokenizer.byteLevel`).
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// A `Split` on one of the patterns Reverie implements, each match its own piece (`behavior: Isolated`).
    case split(SplitPattern)
    /// SentencePiece's Metaspace: spaces become `replacement`, which is prepended (`always`, or `first` for the text
    /// at the very start of the input); with `split`, each piece starts at a `replacement`.
    case metaspace(replacement: Unicode.Scalar, prepend: PrependScheme, split: Bool)
    /// Runs of numeric characters, or each one alone, as their own pieces.
    case digits(individual: Bool)

    enum PrependScheme: String, Sendable { case always, first, never }
}

/// The split patterns of real tokenizers, recognised by their exact regex text.
enum SplitPattern: Sendable, Equatable {
    /// GPT-2's `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Llama-3's (tiktoken cl100k style): case-insensitive contractions, a letter run with one leading
    /// non-letter, numbers in threes, newlines apart.
    case llama3

    static let patterns: [String: SplitPattern] = [
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#: .gpt2,
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#:
            .llama3,
    ]

    func split(_ piece: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        switch self {
        case .gpt2: return ByteLevel.split(String(scalars: piece)).map { Array($0.unicodeScalars) }
        case .llama3: return Llama3Split.split(piece)
        }
    }
}

/// A whole pre-tokenizer: its steps, and whether pieces are mapped to GPT-2's byte alphabet at the end.
struct PreTokenizer: Sendable, Equatable {
    var steps: [PreTokenizerStep]

    /// Whether a ByteLevel step maps the pieces' bytes to the byte alphabet (and ByteLevel decoding applies).
    var byteLevel: Bool { steps.contains { if case .byteLevel = $0 { true } else { false } } }

    /// The pieces of one text segment; `atStart` tells whether the segment begins the input (Metaspace `first`).
    func pieces(_ text: [Unicode.Scalar], atStart: Bool) -> [[Unicode.Scalar]] {
        var pieces = [text]
        for step in steps {
            pieces = pieces.enumerated().flatMap { i, piece in apply(step, piece, atStart: atStart && i == 0) }
        }
        return pieces.filter { !$0.isEmpty }
    }

    private func apply(_ step: PreTokenizerStep, _ piece: [Unicode.Scalar], atStart: Bool) -> [[Unicode.Scalar]] {
        switch step {
        case let .byteLevel(addPrefixSpace, useRegex):
            var p = piece
            if addPrefixSpace && p.first != " " { p.insert(" ", at: 0) }
            return useRegex ? SplitPattern.gpt2.split(p) : [p]
        case let .split(pattern):
            return pattern.split(piece)
        case let .metaspace(replacement, prepend, split):
            var p = piece.map { $0 == " " ? replacement : $0 }
            if p.first != replacement && (prepend == .always || (prepend == .first && atStart)) {
                p.insert(replacement, at: 0)
            }
            guard split else { return [p] }
            var out: [[Unicode.Scalar]] = []
            for c in p {
                if c == replacement || out.isEmpty { out.append([c]) } else { out[out.count - 1].append(c) }
            }
            return out
        case let .digits(individual):
            var out: [[Unicode.Scalar]] = []
            var previousDigit = false
            for c in piece {
                let digit = ScalarKind(c) == .number
                if out.isEmpty || digit != previousDigit || (digit && individual) {
                    out.append([c])
                } else {
                    out[out.count - 1].append(c)
                }
                previousDigit = digit
            }
            return out
        }
    }
}
