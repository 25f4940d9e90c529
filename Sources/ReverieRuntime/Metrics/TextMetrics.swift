import Foundation

/// How close a written text is to a reference, over lowercased whitespace tokens.
public enum TextMetrics {
    public static func tokens(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: \.isWhitespace).map(String.init)
    }

    /// Whether the token sequences are equal.
    public static func exactMatch(_ hypothesis: String, _ reference: String) -> Bool {
        tokens(hypothesis) == tokens(reference)
    }

    /// The harmonic mean of token precision and recall over the two texts' token multisets (SQuAD's F1).
    public static func tokenF1(_ hypothesis: String, _ reference: String) -> Double {
        let (h, r) = (tokens(hypothesis), tokens(reference))
        guard !h.isEmpty, !r.isEmpty else { return h.isEmpty && r.isEmpty ? 1 : 0 }
        var counts: [String: Int] = [:]
        for t in r { counts[t, default: 0] += 1 }
        var common = 0
        for t in h where (counts[t] ?? 0) > 0 {
            counts[t]! -= 1
            common += 1
        }
        guard common > 0 else { return 0 }
        let (p, q) = (Double(common) / Double(h.count), Double(common) / Double(r.count))
        return 2 * p * q / (p + q)
    }

    /// Corpus BLEU-4 (Papineni et al. 2002) with one reference per hypothesis, as NLTK's `corpus_bleu` computes it
    /// without smoothing: clipped n-gram precisions summed over the corpus, their geometric mean, times the brevity
    /// penalty; 0 when some order has no match.
    public static func bleu4(hypotheses: [String], references: [String]) -> Double {
        var matches = [Int](repeating: 0, count: 4), totals = [Int](repeating: 0, count: 4)
        var (hypothesisLength, referenceLength) = (0, 0)
        for (hText, rText) in zip(hypotheses, references) {
            let (h, r) = (tokens(hText), tokens(rText))
            (hypothesisLength, referenceLength) = (hypothesisLength + h.count, referenceLength + r.count)
            for n in 1...4 {
                let (hc, rc) = (ngrams(h, n), ngrams(r, n))
                matches[n - 1] += hc.reduce(0) { $0 + min($1.value, rc[$1.key] ?? 0) }
                totals[n - 1] += max(h.count - n + 1, 0)
            }
        }
        guard hypothesisLength > 0, !zip(matches, totals).contains(where: { $0 == 0 || $1 == 0 }) else { return 0 }
        let logPrecision = zip(matches, totals).reduce(0.0) { $0 + 0.25 * log(Double($1.0) / Double($1.1)) }
        let brevity =
            hypothesisLength < referenceLength ? exp(1 - Double(referenceLength) / Double(hypothesisLength)) : 1
        return brevity * exp(logPrecision)
    }

    static func ngrams(_ t: [String], _ n: Int) -> [[String]: Int] {
        var counts: [[String]: Int] = [:]
        if t.count >= n { for i in 0...(t.count - n) { counts[Array(t[i..<(i + n)]), default: 0] += 1 } }
        return counts
    }
}
