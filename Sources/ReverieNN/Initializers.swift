import Foundation
import ReverieCore

/// In-place parameter initialisers, drawing serially from an `RNG` so a seed fixes every weight.
///
/// They write through the raw buffer (no autodiff) and keep the tensor's identity, so models can re-initialise
/// parameters after construction the way Hugging Face's `_init_weights` does.
public enum Init {
    /// Uniform in [-bound, bound).
    public static func uniform(_ t: Tensor, bound: Float, rng: inout RNG) {
        let p = t.pointer
        for i in 0..<t.count { p[i] = (2 * rng.uniform() - 1) * bound }
    }

    /// Normal(mean, std).
    public static func normal(_ t: Tensor, mean: Float = 0, std: Float, rng: inout RNG) {
        let p = t.pointer
        for i in 0..<t.count { p[i] = mean + std * rng.normal() }
    }

    /// Every element set to `value`.
    public static func constant(_ t: Tensor, _ value: Float) {
        t.mutableBuffer.update(repeating: value)
    }

    /// PyTorch's default for `nn.Linear` and `nn.Conv2d` weights and biases: `kaiming_uniform_(a=√5)`, which is
    /// uniform in ±1/√fanIn.
    public static func kaimingUniformDefault(_ t: Tensor, fanIn: Int, rng: inout RNG) {
        uniform(t, bound: 1 / Float(Swift.max(fanIn, 1)).squareRoot(), rng: &rng)
    }

    /// A fresh parameter: a leaf tensor with `requiresGrad = true`.
    static func parameter(_ shape: [Int]) -> Tensor { Tensor(zeros: shape, requiresGrad: true) }

    /// A weight of `shape` and, when `bias`, a bias of `[shape[0]]`, both uniform in ±1/√fanIn: the default
    /// initialisation of `torch.nn.Linear` and `torch.nn.Conv2d`, drawn weight first.
    static func weightAndBias(_ shape: [Int], fanIn: Int, bias: Bool, rng: inout RNG) -> (Tensor, Tensor?) {
        let weight = parameter(shape)
        kaimingUniformDefault(weight, fanIn: fanIn, rng: &rng)
        guard bias else { return (weight, nil) }
        let b = parameter([shape[0]])
        kaimingUniformDefault(b, fanIn: fanIn, rng: &rng)
        return (weight, b)
    }
}

/// Throws `ModuleError.invalidConfiguration` unless every size is positive.
func requirePositive(_ module: String, _ sizes: KeyValuePairs<String, Int>) throws {
    for (name, value) in sizes where value <= 0 {
        throw ModuleError.invalidConfiguration(module: module, detail: "\(name) must be positive, got \(value)")
    }
}
