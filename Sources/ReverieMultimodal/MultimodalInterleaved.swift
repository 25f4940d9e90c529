import ReverieCore
import ReverieDiffusion

/// One piece of interleaved output: text the model wrote, or an image it drew.
public enum InterleavedPiece {
    case tokens([Int])
    /// [1, 3, H, W] in the decoder's output range ([-1, 1]).
    case image(Tensor)
}

extension MultimodalModel {
    /// Interleaved generation: the model writes text greedily; whenever it writes `<img>`, its conditions for that
    /// block go to the decoder, the drawn image joins the output, and the model continues after it (the queries
    /// in `queries` mode; in `autoregressive` mode the drawn image's conditions are fed back, as in training).
    /// Stops at `stopToken` (not included), after `maxTokens` tokens, or after `maxImages` images.
    ///
    /// - Throws: `MultimodalError` for an empty prompt or a model without a decoder.
    public func generateInterleaved(
        prompt: [Int], stopToken: Int, maxTokens: Int = 128, maxImages: Int = 4,
        imageSize: (h: Int, w: Int), steps: Int, guidance: Float,
        sampler: any SamplerConfig = DDIMSampler.Config(), seed: UInt64
    ) throws
        -> [InterleavedPiece]
    {
        guard !prompt.isEmpty else { throw MultimodalError.invalidExample(detail: "the prompt is empty") }
        guard let decoder else {
            throw MultimodalError.invalidConfiguration(key: "decoder", detail: "the model has no decoder")
        }
        var tokens = prompt
        var drawn: [Tensor] = []  // [3, H, W] in [0, 1], fed back as targets in autoregressive mode
        var pieces: [InterleavedPiece] = []
        var text: [Int] = []
        try withNoGrad {
            for _ in 0..<maxTokens {
                let ex = MultimodalExample(
                    tokens: tokens, lossMask: Array(repeating: 0, count: tokens.count),
                    targetImages: drawn)
                let hidden = try forward(batch: [ex], logits: false)[0].hidden  // [1, L, D]
                let l = hidden.shape[1]
                let last = try llm.head(hidden.slice(axis: 1, start: l - 1, end: l)).toArray()  // the next token's
                guard let next = last.indices.max(by: { last[$0] < last[$1] }), next != stopToken else { break }
                tokens.append(next)
                guard next == config.imageBeginTokenId else {
                    text.append(next)
                    continue
                }
                if !text.isEmpty { pieces.append(.tokens(text)) }
                text = []
                let conditions = try generateConditions(prompt: Array(tokens.dropLast()), drawn: drawn)  // [1, K, Dc]
                let image = try decoder.decode(
                    conditions: conditions, imageSize: imageSize, steps: steps,
                    guidance: guidance, sampler: sampler, seed: seed &+ UInt64(drawn.count))
                pieces.append(.image(image))
                let unit = try ((image + 1) * 0.5).reshape(Array(image.shape.dropFirst()))
                drawn.append(try Tensor(shape: unit.shape, data: unit.toArray().map { Swift.min(Swift.max($0, 0), 1) }))
                if drawn.count >= maxImages { break }
            }
        }
        if !text.isEmpty { pieces.append(.tokens(text)) }
        return pieces
    }
}
