// port of transformers/generation/logits_process.py (TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper)
import Foundation
import ReverieCore

/// How the next token is chosen from a row of logits.
public struct Sampling: Sendable, Equatable {
    /// Sample (true) or take the arg-max (false).
    public var doSample: Bool
    /// Logits are divided by this before top-k / top-p (must be > 0).
    public var temperature: Float
    /// Keep only the k most likely tokens; nil or 0 keeps all.
    public var topK: Int?
    /// Keep the smallest set of most likely tokens whose probability reaches p; nil or 1 keeps all.
    public var topP: Float?

    public init(doSample: Bool = true, temperature: Float = 1, topK: Int? = nil, topP: Float? = nil) {
        (self.doSample, self.temperature, self.topK, self.topP) = (doSample, temperature, topK, topP)
    }

    /// Arg-max decoding (ties go to the lowest id, as `torch.argmax`).
    public static let greedy = Sampling(doSample: false)

    func validate() throws {
        guard temperature > 0, temperature.isFinite else {
            throw TensorError.invalidArgument(op: "Sampling", detail: "temperature must be positive, is \(temperature)")
        }
        if let topK, topK < 0 { throw TensorError.invalidArgument(op: "Sampling", detail: "top_k \(topK) < 0") }
        if let topP, !(topP > 0 && topP <= 1) {
            throw TensorError.invalidArgument(op: "Sampling", detail: "top_p must be in (0, 1], is \(topP)")
        }
    }

    /// The next token for one row of logits. Applies, in transformers' order, temperature, top-k and top-p, then
    /// draws from the softmax with `rng` (one uniform draw per call, so a seed fixes the sequence).
    public func next(_ logits: UnsafeBufferPointer<Float>, rng: inout RNG) throws -> Int {
        try validate()
        guard !logits.isEmpty else { throw TensorError.invalidArgument(op: "Sampling", detail: "empty logits") }
        if !doSample { return Self.argmax(logits) }
        // Candidates by descending logit (stable: ties keep the lower id first).
        var order = Array(0..<logits.count)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        if let topK, topK > 0, topK < order.count {
            // Like TopKLogitsWarper, everything tied with the k-th logit stays.
            let threshold = logits[order[topK - 1]]
            order = order.filter { logits[$0] >= threshold }
        }
        let scaled = order.map { Double(logits[$0] / temperature) }
        let maxLogit = scaled[0]
        var probs = scaled.map { Foundation.exp($0 - maxLogit) }
        var total = probs.reduce(0, +)
        if let topP, topP < 1 {
            // Keep the most likely tokens until their mass reaches p (always at least one).
            var mass = 0.0, keep = 0
            while keep < probs.count {
                mass += probs[keep] / total
                keep += 1
                if mass >= Double(topP) { break }
            }
            probs.removeLast(probs.count - keep)
            total = probs.reduce(0, +)
        }
        let u = Double(rng.uniform()) * total
        var acc = 0.0
        for (i, p) in probs.enumerated() {
            acc += p
            if u < acc { return order[i] }
        }
        return order[probs.count - 1]
    }

    static func argmax(_ x: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in 1..<x.count where x[i] > x[best] { best = i }
        return best
    }
}
