import Foundation

/// What a `tokenizer.json` does around its BPE model: normalizer, pre-tokenizer, post-processor template and
/// decoder, as `tokenizers` runs them. GPT-2's plain byte-level layout is ``gpt2(addPrefixSpace:)``.
struct TokenizerPipeline: Sendable {
    var normalizer: [NormalizerStep] = []
    var preTokenizer = PreTokenizer(steps: [.byteLevel(addPrefixSpace: false, useRegex: true)])
    /// The ids `encode(_:addSpecialTokens: true)` puts around the text's (TemplateProcessing `single`).
    var template: [TemplateItem] = [.sequence]
    /// Nil: the file had none (byte-level pipelines still decode bytes; others join tokens with spaces).
    var decoder: [DecoderStep]?
    /// The file's own normalizer, pre_tokenizer, post_processor and decoder sections (JSON text), written back
    /// unchanged; nil for the plain byte-level layout Reverie writes itself.
    var sections: [String: String]?

    static func gpt2(addPrefixSpace: Bool) -> TokenizerPipeline {
        TokenizerPipeline(
            preTokenizer: PreTokenizer(steps: [.byteLevel(addPrefixSpace: addPrefixSpace, useRegex: true)]),
            decoder: [.byteLevel])
    }

    func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var s = text
        for step in normalizer {
            switch step {
            case let .prepend(p): if !s.isEmpty { s = Array(p.unicodeScalars) + s }
            case let .replace(pattern, content): s = Self.replacing(s, Array(pattern.unicodeScalars), content)
            }
        }
        return s
    }

    static func replacing(_ s: [Unicode.Scalar], _ pattern: [Unicode.Scalar], _ content: String) -> [Unicode.Scalar] {
        guard !pattern.isEmpty, s.count >= pattern.count else { return s }
        var out: [Unicode.Scalar] = []
        var i = 0
        while i < s.count {
            if i + pattern.count <= s.count && s[i..<(i + pattern.count)].elementsEqual(pattern) {
                out += content.unicodeScalars
                i += pattern.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// `tokens` (vocabulary strings, added tokens' contents) as text, through the decoder chain.
    func decode(_ tokens: [String]) -> String {
        guard let decoder else {
            return preTokenizer.byteLevel ? DecoderStep.byteLevel.apply(tokens).joined() : tokens.joined(separator: " ")
        }
        return decoder.reduce(tokens) { $1.apply($0) }.joined()
    }
}

/// A `tokenizer.json` normalizer step (`Sequence` members in order).
enum NormalizerStep: Sendable, Equatable {
    /// Prepends the string to a non-empty text.
    case prepend(String)
    /// Replaces every occurrence of a literal string.
    case replace(String, String)
}

/// An item of a TemplateProcessing `single` template.
enum TemplateItem: Sendable, Equatable {
    case special([Int])
    case sequence
}

/// A `tokenizer.json` decoder step over the list of token strings (port of `tokenizers`' `decode_chain`s).
enum DecoderStep: Sendable, Equatable {
    case byteLevel
    case replace(String, String)
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case metaspace(replacement: Unicode.Scalar, prependFirst: Bool)

    func apply(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens {
                let mapped = token.unicodeScalars.map { ByteLevel.scalarToByte[$0.value] }
                if mapped.contains(nil) { bytes += token.utf8 } else { bytes += mapped.map { $0! } }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case let .replace(pattern, content):
            let pattern = Array(pattern.unicodeScalars)
            return tokens.map {
                String(scalars: TokenizerPipeline.replacing(Array($0.unicodeScalars), pattern, content))
            }
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let s = String(validating: pending, as: UTF8.self) {
                    out.append(s)
                } else {
                    out += Array(repeating: "\u{FFFD}", count: pending.count)
                }
                pending = []
            }
            for token in tokens {
                if let byte = Self.fallbackByte(token) {
                    pending.append(byte)
                } else {
                    flush()
                    out.append(token)
                }
            }
            flush()
            return out
        case .fuse:
            return [tokens.joined()]
        case let .strip(content, start, stop):
            return tokens.map { token in
                var chars = Array(token.unicodeScalars)
                var cut = 0
                while cut < start && cut < chars.count && chars[cut] == content { cut += 1 }
                chars.removeFirst(cut)
                var tail = 0
                while tail < stop && tail < chars.count && chars[chars.count - 1 - tail] == content { tail += 1 }
                chars.removeLast(tail)
                return String(scalars: chars)
            }
        case let .metaspace(replacement, prependFirst):
            return tokens.enumerated().map { i, token in
                String(
                    scalars:
                        token.unicodeScalars.compactMap { c -> Unicode.Scalar? in
                            c != replacement ? c : (i == 0 && prependFirst ? nil : " ")
                        })
            }
        }
    }

    /// The byte of a SentencePiece byte token `<0xAB>`.
    static func fallbackByte(_ token: String) -> UInt8? {
        guard token.utf8.count == 6, token.hasPrefix("<0x"), token.hasSuffix(">") else { return nil }
        return UInt8(token.dropFirst(3).prefix(2), radix: 16)
    }
}

extension String {
    /// The string of these Unicode scalars (tokenizers work on scalars, as Rust's `char`s).
    init<S: Sequence>(scalars: S) where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        self.init(view)
    }
}
