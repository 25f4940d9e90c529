import ReverieCore
import ReverieLanguage
import ReverieNN

/// The workloads of `reverie bench llm`: a full training step of a small Llama and KV-cache decoding.
enum LLMBench {
    /// The issue-3 configuration: vocab 512, dim 256, 4 layers, 4 heads, 2 key/value heads, ffn 688.
    static let config = LlamaConfig(
        vocabSize: 512, hiddenSize: 256, intermediateSize: 688, numHiddenLayers: 4,
        numAttentionHeads: 4, numKeyValueHeads: 2, maxPositionEmbeddings: 512)
    /// A tiny configuration so tests can run the suite end to end in well under a second (`--scale tiny`).
    static let tinyConfig = LlamaConfig(
        vocabSize: 64, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1,
        numAttentionHeads: 2, numKeyValueHeads: 1, maxPositionEmbeddings: 64)

    /// Parameters that enter a matrix product per token (every Linear, the head included; the embedding lookup is a
    /// gather and costs no FLOPs unless tied to the head).
    static func matmulParameters(_ model: LanguageModel) -> Int {
        var n = 0
        for (key, p) in model.namedParameters() where p.rank == 2 && key != "model.embed_tokens.weight" { n += p.count }
        if model.lmHead == nil { n += model.model.embedTokens.weight.count }
        return n
    }

    /// Forward, cross-entropy, backward and an AdamW step on [batch, tokens] random ids.
    /// FLOPs = 6 · matmul parameters · tokens + attention (QKᵀ and PV: 4·B·T²·H·Dh per layer forward, ×3 with
    /// backward; the causal half is computed in full by the kernel, so it is counted).
    static func trainingStep(
        config: LlamaConfig, batch: Int, tokens: Int, repeats: Int,
        ceiling: SGEMMCeiling
    ) throws -> BenchResult {
        var rng = RNG(seed: 5)
        let model = try LanguageModel(config: config, rng: &rng)
        let optimizer = try AdamW(parameters: model.trainableParameters(), lr: 1e-3, weightDecay: 0.01)
        let ids = (0..<(batch * (tokens + 1))).map { _ in Int(rng.next() % UInt64(config.vocabSize)) }
        var inputs: [Int] = [], targets: [Int] = []
        for b in 0..<batch {
            let row = ids[(b * (tokens + 1))..<((b + 1) * (tokens + 1))]
            inputs += row.dropLast()
            targets += row.dropFirst()
        }
        let params = Double(matmulParameters(model))
        let attention =
            12 * Double(batch) * Double(tokens * tokens) * Double(config.numAttentionHeads * config.headDim)
            * Double(config.numHiddenLayers)
        let flops = 6 * params * Double(batch * tokens) + attention
        var result = try ceiling.measure(
            "llm_train_step_b\(batch)_t\(tokens)_d\(config.hiddenSize)_l\(config.numHiddenLayers)", flops: flops,
            repeats: repeats
        ) {
            optimizer.zeroGrad()
            let logits = try model(ids: inputs, shape: [batch, tokens]).logits  // [B, T, V]
            let loss = try crossEntropy(logits.reshape([batch * tokens, config.vocabSize]), targets: targets)
            try loss.backward()
            optimizer.step()
        }
        result.detail["tokens_per_second"] = Double(batch * tokens) / result.seconds
        result.detail["parameters"] = Double(model.parameters().reduce(0) { $0 + $1.count })
        result.detail["matmul_parameters"] = params
        return result
    }

    /// Batch-1 greedy decoding with the KV cache: a `prompt`-token prefill, then `steps` single-token steps.
    /// Reports decoded tokens per second (the prefill is included in the time).
    static func decode(
        config: LlamaConfig, prompt: Int, steps: Int, repeats: Int,
        ceiling: SGEMMCeiling
    ) throws -> BenchResult {
        var rng = RNG(seed: 6)
        let model = try LanguageModel(config: config, rng: &rng)
        model.eval()
        let ids = (0..<prompt).map { _ in Int(rng.next() % UInt64(config.vocabSize)) }
        // One token through the matmul parameters, plus attention over the cache (4·L·H·Dh per cached position).
        let params = Double(matmulParameters(model))
        var flops = 2 * params * Double(prompt + steps)
        for position in 0..<(prompt + steps) {
            let width = config.numAttentionHeads * config.headDim * config.numHiddenLayers
            flops += 4 * Double(position + 1) * Double(width)
        }
        var result = try ceiling.measure(
            "llm_decode_b1_prompt\(prompt)_steps\(steps)", flops: flops,
            repeats: repeats
        ) {
            _ = try model.generate(prompt: ids, maxNewTokens: steps, sampling: .greedy)
        }
        result.detail["tokens_per_second"] = Double(steps) / result.seconds
        return result
    }

    /// The suite at full (`config`, batch 32 × 128 tokens, 128 decoded tokens) or tiny scale.
    static func run(tiny: Bool, repeats: Int, ceiling: SGEMMCeiling) throws -> [BenchResult] {
        let c = tiny ? tinyConfig : config
        return [
            try trainingStep(
                config: c, batch: tiny ? 2 : 32, tokens: tiny ? 8 : 128, repeats: repeats,
                ceiling: ceiling),
            try decode(config: c, prompt: tiny ? 4 : 16, steps: tiny ? 8 : 128, repeats: repeats, ceiling: ceiling),
        ]
    }
}
