// classifier-free guidance (Ho & Salimans 2022), as diffusers pipelines apply it:
// uncond + scale · (cond − uncond), with condition dropout during training
import ReverieCore
import ReverieNN

/// What stands in for the conditions in the unconditional branch of classifier-free guidance.
public enum NullConditionKind: String, ConfigurationChoice {
    /// All-zero condition tokens.
    case zeros
    /// A learned [S, D] embedding (key `null_condition`), trained through condition dropout.
    case learned
}

/// The null condition: zeros or a learned parameter of shape [tokens, dim]. Key: `null_condition` (learned only).
public final class NullCondition: Module {
    public let kind: NullConditionKind
    public let tokens: Int
    public let dim: Int
    /// [tokens, dim] when learned.
    public let embedding: Tensor?

    public init(kind: NullConditionKind, tokens: Int, dim: Int) throws {
        guard tokens > 0, dim > 0 else {
            throw DiffusionError.invalidConfiguration(
                component: "NullCondition", detail: "tokens \(tokens) and dim \(dim) must be positive")
        }
        (self.kind, self.tokens, self.dim) = (kind, tokens, dim)
        embedding = kind == .learned ? Tensor(zeros: [tokens, dim], requiresGrad: true) : nil
    }

    override public func visit(_ v: inout ModuleVisitor) { v.parameter("null_condition", embedding) }

    /// The null condition for a batch: → [batch, tokens, dim] (differentiable in the learned embedding).
    public func callAsFunction(batch: Int) throws -> Tensor {
        guard let embedding else { return Tensor(zeros: [batch, tokens, dim]) }
        let one = try embedding.unsqueeze(0)  // [1, S, D]
        return try concat(Array(repeating: one, count: batch), axis: 0)
    }

    /// Condition dropout for training: each item's conditions are replaced by the null condition with
    /// probability `p` (default 10 %). conditions [B, S, D] → [B, S, D].
    public func dropout(_ conditions: Tensor, p: Float = 0.1, rng: inout RNG) throws -> Tensor {
        guard (0...1).contains(p) else {
            throw DiffusionError.invalidConfiguration(
                component: "NullCondition.dropout", detail: "p \(p) not in [0, 1]")
        }
        guard conditions.rank == 3, conditions.shape[1] == tokens, conditions.shape[2] == dim else {
            throw TensorError.shapeMismatch(
                op: "NullCondition.dropout",
                detail: "conditions \(shapeString(conditions.shape)), expected [B, \(tokens), \(dim)]")
        }
        let b = conditions.shape[0]
        let keep = (0..<b).map { _ in rng.uniform() < p ? Float(0) : 1 }
        let mask = try Tensor(shape: [b, 1, 1], data: keep)
        return try conditions * mask + callAsFunction(batch: b) * (1 - mask)
    }
}

/// Classifier-free guidance: `uncond + scale · (cond − uncond)`. Scale 1 returns the conditional prediction.
/// uncond, cond [B, …] → [B, …]
public func classifierFreeGuidance(uncond: Tensor, cond: Tensor, scale: Float) throws -> Tensor {
    try uncond + (cond - uncond) * scale
}
