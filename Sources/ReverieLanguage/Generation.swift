import ReverieCore

extension LanguageModel {
    /// Continues `prompt` (one sequence) by `maxNewTokens` tokens with a KV cache: one forward over the prompt, then
    /// one position per step. Returns only the new tokens; stops early after any id in `stopTokens`.
    ///
    /// Greedy decoding (`.greedy`) matches transformers' `generate(do_sample=False)` token for token.
    public func generate(
        prompt: [Int], maxNewTokens: Int, sampling: Sampling = .greedy, seed: UInt64 = 0,
        stopTokens: Set<Int> = []
    ) throws -> [Int] {
        guard !prompt.isEmpty else {
            throw TensorError.invalidArgument(op: "LanguageModel.generate", detail: "the prompt is empty")
        }
        return try generate(
            inputEmbeddings: embed(ids: prompt, shape: [1, prompt.count]), maxNewTokens: maxNewTokens,
            sampling: sampling, seed: seed, stopTokens: stopTokens)
    }

    /// Continues a sequence given as embeddings [1, T, D] (for example text with visual tokens spliced in).
    public func generate(
        inputEmbeddings: Tensor, maxNewTokens: Int, sampling: Sampling = .greedy,
        seed: UInt64 = 0, stopTokens: Set<Int> = []
    ) throws -> [Int] {
        guard inputEmbeddings.rank == 3, inputEmbeddings.shape[0] == 1, inputEmbeddings.shape[1] > 0 else {
            throw TensorError.shapeMismatch(
                op: "LanguageModel.generate",
                detail: "input embeddings \(shapeString(inputEmbeddings.shape)), expected [1, T > 0, D]")
        }
        guard maxNewTokens >= 0 else {
            throw TensorError.invalidArgument(op: "LanguageModel.generate", detail: "maxNewTokens \(maxNewTokens) < 0")
        }
        var rng = RNG(seed: seed)
        let cache = makeCache()
        return try withNoGrad {
            var out: [Int] = []
            var logits = try self(inputEmbeddings: inputEmbeddings, cache: cache, lastPositionOnly: true).logits
            while out.count < maxNewTokens {
                try Deadline.check()  // a server's request limit stops a text between two tokens
                let token = try sampling.next(logits.buffer, rng: &rng)  // logits [1, 1, vocab]
                out.append(token)
                if stopTokens.contains(token) || out.count == maxNewTokens { break }
                logits = try self(ids: [token], shape: [1, 1], cache: cache, lastPositionOnly: true).logits
            }
            return out
        }
    }
}
