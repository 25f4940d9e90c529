import ReverieCore
import ReverieNN

/// Emu-style: the hidden state at `<img>` predicts condition 1, and each condition, mapped back to the LLM width by
/// `condition_input`, is the next input, whose hidden state predicts the following one. Training feeds the target
/// conditions (teacher forcing); generation feeds its own predictions, K steps with a KV cache.
/// Key: `condition_input.*` (Dc → D).
public final class AutoregressiveOutput: Module, OutputMode {
    public static let kind = "autoregressive"
    public let conditionInput: Linear
    let tokens: Int

    public init(dimensions: OutputDimensions, rng: inout RNG) throws {
        conditionInput = try Linear(inFeatures: dimensions.condition, outFeatures: dimensions.hidden, rng: &rng)
        tokens = dimensions.tokens
    }

    override public func visit(_ v: inout ModuleVisitor) { v.child("condition_input", conditionInput) }

    public var needsTargets: Bool { true }
    public static let readsTheImageItFollows = false
    public var predictionOffset: Int { -1 }

    /// Conditions 1..<K of each target, as inputs [1, K − 1, D] (the last one's hidden state predicts nothing).
    public func blockInputs(blocks: Int, targets: Tensor?, queryPositions: Tensor?) throws -> [Tensor?] {
        guard let targets, tokens > 1 else { return Array(repeating: nil, count: blocks) }
        let fed = try conditionInput(targets)  // [N, K, D]
        return try (0..<blocks).map { i in  // a block past the targets (the one being generated) has no inputs
            i < fed.shape[0]
                ? try fed.slice(axis: 0, start: i, end: i + 1).slice(axis: 1, start: 0, end: tokens - 1) : nil
        }
    }

    /// K steps with a KV cache, each feeding the condition just predicted → [1, K, Dc].
    public func generate(_ model: MultimodalModel, prefix: () throws -> Tensor) throws -> Tensor? {
        let x = try prefix()
        let cache = model.llm.makeCache()
        let t = x.shape[1]
        var last = try model.llm(inputEmbeddings: x, cache: cache).lastHiddenState.slice(axis: 1, start: t - 1, end: t)
        var conditions: [Tensor] = []
        for i in 0..<tokens {
            let c = try model.outputHead(last)  // [1, 1, Dc]
            conditions.append(c)
            if i + 1 < tokens {
                last = try model.llm(inputEmbeddings: conditionInput(c), cache: cache).lastHiddenState  // [1, 1, D]
            }
        }
        return try concat(conditions, axis: 1)  // [1, K, Dc]
    }
}
