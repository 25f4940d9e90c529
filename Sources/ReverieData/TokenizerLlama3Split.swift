/// Llama-3's split pattern, matched by hand over Unicode scalars with the regex's leftmost-first alternation:
///
///     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
///
/// The concatenation of the pieces is the input.
enum Llama3Split {
    static func split(_ s: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        let kinds = s.map(ScalarKind.init)
        var pieces: [[Unicode.Scalar]] = []
        var i = 0
        while i < s.count {
            let end = matchEnd(s, kinds, i)
            pieces.append(Array(s[i..<end]))
            i = end
        }
        return pieces
    }

    static func isNewline(_ c: Unicode.Scalar) -> Bool { c == "\r" || c == "\n" }

    /// Whether `c` equals the ASCII letter `lower` under the regex's simple case folding (`ſ` folds to `s`).
    static func folds(_ c: Unicode.Scalar, _ lower: Unicode.Scalar) -> Bool {
        c == lower || c.value == lower.value - 32 || (lower == "s" && c == "\u{017F}")
    }

    static func matchEnd(_ s: [Unicode.Scalar], _ kinds: [ScalarKind], _ i: Int) -> Int {
        let n = s.count
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if s[i] == "'", i + 1 < n {
            let c = s[i + 1]
            if folds(c, "s") || folds(c, "t") || folds(c, "m") || folds(c, "d") { return i + 2 }
            if i + 2 < n {
                let d = s[i + 2]
                if (folds(c, "r") || folds(c, "v")) && folds(d, "e") { return i + 3 }
                if folds(c, "l") && folds(d, "l") { return i + 3 }
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        var j = i
        if kinds[j] != .letter && kinds[j] != .number && !isNewline(s[j]) && j + 1 < n && kinds[j + 1] == .letter {
            j += 1
        }
        if kinds[j] == .letter {
            var end = j + 1
            while end < n && kinds[end] == .letter { end += 1 }
            return end
        }
        // \p{N}{1,3}
        if kinds[i] == .number {
            var end = i + 1
            while end < n && end < i + 3 && kinds[end] == .number { end += 1 }
            return end
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let k = s[i] == " " && i + 1 < n && kinds[i + 1] == .other ? i + 1 : i
        if kinds[k] == .other {
            var end = k + 1
            while end < n && kinds[end] == .other { end += 1 }
            while end < n && isNewline(s[end]) { end += 1 }
            return end
        }
        // Whitespace from here on: the run i..<run.
        var run = i
        while run < n && kinds[run] == .space { run += 1 }
        // \s*[\r\n]+ ends after the run's last newline.
        if let last = (i..<run).last(where: { isNewline(s[$0]) }) { return last + 1 }
        // \s+(?!\S) leaves the run's last space for the word after it; \s+ otherwise.
        if run == n || run - 1 == i { return run }
        return run - 1
    }
}
