/// GPT-2's byte-level alphabet and pre-tokenizer (port of `tokenizers`' `pre_tokenizers::byte_level`).
///
/// Every byte maps to one printable character (printable Latin-1 bytes to themselves, the rest to U+0100…), so
/// BPE runs over text with no unknown symbols and decoding maps characters back to the exact bytes.
public enum ByteLevel {
    /// The character for each byte value.
    public static let byteToScalar: [Unicode.Scalar] = {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var scalars = [UInt32](repeating: 0, count: 256)
        for b in printable { scalars[b] = UInt32(b) }
        var next: UInt32 = 256
        for b in 0..<256 where !printable.contains(b) {
            scalars[b] = next
            next += 1
            printable.append(b)
        }
        return scalars.map { Unicode.Scalar($0)! }  // all below U+0200: valid scalars
    }()

    /// The byte for each alphabet character.
    public static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    /// The 256 alphabet characters as one-character strings (what a trainer's initial alphabet holds).
    public static var alphabet: [String] { byteToScalar.map { String(Character($0)) } }

    /// `bytes` in the byte-level alphabet.
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// Splits text with GPT-2's pattern
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, scanning Unicode scalars
    /// (so combining marks and emoji are "other", as in the regex). Returns the pieces in order; their
    /// concatenation is the input.
    public static func split(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        let kinds = s.map(ScalarKind.init)
        var pieces: [String] = []
        var i = 0
        while i < s.count {
            let end = matchEnd(s, kinds, i)
            var view = String.UnicodeScalarView()
            view.append(contentsOf: s[i..<end])
            pieces.append(String(view))
            i = end
        }
        return pieces
    }

    private static func matchEnd(_ s: [Unicode.Scalar], _ kinds: [ScalarKind], _ i: Int) -> Int {
        let n = s.count
        if s[i] == "'", i + 1 < n {
            switch s[i + 1] {
            case "s", "t", "m", "d": return i + 2
            case "r" where i + 2 < n && s[i + 2] == "e": return i + 3
            case "v" where i + 2 < n && s[i + 2] == "e": return i + 3
            case "l" where i + 2 < n && s[i + 2] == "l": return i + 3
            default: break
            }
        }
        let j = s[i] == " " ? i + 1 : i
        if j < n, kinds[j] != .space {
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a run of one kind, with an optional leading space.
            let kind = kinds[j]
            var end = j + 1
            while end < n && kinds[end] == kind { end += 1 }
            return end
        }
        // Whitespace: `\s+(?!\S)` leaves the last space of a run for the word after it; `\s+` otherwise.
        var end = i
        while end < n && kinds[end] == .space { end += 1 }
        if end == n || end - 1 == i { return end }
        return end - 1
    }
}

/// The character classes GPT-2's split pattern distinguishes.
enum ScalarKind: Equatable {
    case letter, number, space, other

    init(_ s: Unicode.Scalar) {
        let p = s.properties
        if p.isWhitespace {
            self = .space
            return
        }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = .other
        }
    }
}
