import ReverieCore

/// Examples padded to one length.
public struct Batch: Sendable {
    /// `[B, T]` token ids, right-padded with `<pad>`.
    public let tokens: [[Int]]
    /// `[B, T]`: 1 on prediction targets, 0 on prompts and padding.
    public let lossMask: Tensor
    /// `[B, T]`: 1 on real tokens, 0 on padding (for attention key masks).
    public let attentionMask: Tensor
    /// Each example's input and target images, in sequence order.
    public let inputImages: [[Tensor]]
    public let targetImages: [[Tensor]]
    /// Where each example came from: (source index, record index).
    public let origins: [(source: Int, index: Int)]

    /// B.
    public var size: Int { tokens.count }
    /// T, the longest example's length.
    public var length: Int { tokens.first?.count ?? 0 }

    /// Pads `examples` with `pad` to their longest length; examples longer than `maxLength` (if given) are cut.
    public init(_ examples: [SequenceExample], origins: [(source: Int, index: Int)], pad: Int, maxLength: Int? = nil) {
        let longest = examples.map(\.tokens.count).max() ?? 0
        let t = min(longest, maxLength ?? longest)
        var tokens: [[Int]] = [], loss = [Float](), valid = [Float]()
        for ex in examples {
            let n = min(ex.tokens.count, t)
            tokens.append(Array(ex.tokens.prefix(n)) + Array(repeating: pad, count: t - n))
            loss += Array(ex.lossMask.prefix(n)) + Array(repeating: 0, count: t - n)
            valid += Array(repeating: 1, count: n) + Array(repeating: 0, count: t - n)
        }
        self.tokens = tokens
        lossMask = Self.tensor([examples.count, t], loss)
        attentionMask = Self.tensor([examples.count, t], valid)
        inputImages = examples.map(\.inputImages)
        targetImages = examples.map(\.targetImages)
        self.origins = origins
    }

    private static func tensor(_ shape: [Int], _ values: [Float]) -> Tensor {
        let t = Tensor(zeros: shape)
        for (i, v) in values.enumerated() { t.pointer[i] = v }
        return t
    }
}
