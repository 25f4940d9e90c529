import ReverieCore

/// A random generator shared by reference, so every dropout layer of a model draws from one stream whose state a
/// checkpoint saves and restores (`stateWords`) for exact resume.
public final class SharedRNG {
    public var rng: RNG

    public init(seed: UInt64) { rng = RNG(seed: seed) }
    public init(_ rng: RNG) { self.rng = rng }

    /// The generator state, for `/state/...` in a training checkpoint.
    public var stateWords: [UInt64] { rng.stateWords }

    /// Restores a state saved from `stateWords`.
    public func restore(stateWords: [UInt64]) throws { rng = try RNG(stateWords: stateWords) }
}

/// Inverted dropout (`torch.nn.Dropout`): active in training mode, the identity after `eval()`. No parameters.
public final class Dropout: Module {
    public let p: Float
    public let generator: SharedRNG

    /// - Throws: `ModuleError.invalidConfiguration` unless 0 ≤ p < 1.
    public init(p: Float, generator: SharedRNG) throws {
        guard (0..<1).contains(p) else {
            throw ModuleError.invalidConfiguration(module: "Dropout", detail: "p = \(p) outside [0, 1)")
        }
        self.p = p
        self.generator = generator
    }

    /// x → x with elements zeroed with probability p and survivors scaled by 1/(1 − p); same shape.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.dropout(p, training: isTraining, rng: &generator.rng)
    }
}
