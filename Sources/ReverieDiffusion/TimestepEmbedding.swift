// port of diffusers `get_timestep_embedding`, `Timesteps` and `TimestepEmbedding` (models/embeddings.py)
import Foundation
import ReverieCore
import ReverieNN

/// Sinusoidal timestep features: for frequencies fᵢ = exp(−ln(maxPeriod)·i / (half − freqShift)), i < half,
/// `[sin(t·f), cos(t·f)]`, or `[cos, sin]` when `flipSinToCos` (Stable Diffusion's layout).
///
/// timesteps [B] → [B, dim]. Not differentiable (timesteps are data).
public func sinusoidalTimestepEmbedding(
    _ timesteps: [Float], dim: Int, flipSinToCos: Bool = true,
    freqShift: Float = 0, maxPeriod: Float = 10000
) throws -> Tensor {
    guard dim >= 2, dim % 2 == 0 else {
        throw DiffusionError.invalidConfiguration(
            component: "sinusoidalTimestepEmbedding", detail: "dim \(dim) must be even and ≥ 2")
    }
    let half = dim / 2
    // Float32 in diffusers' order: (−ln P · i) / (half − shift), then exp, then t · f.
    let logP = Float(-Foundation.log(Double(maxPeriod)))
    let freqs = (0..<half).map { i in Foundation.exp((logP * Float(i)) / (Float(half) - freqShift)) }
    var data = [Float](repeating: 0, count: timesteps.count * dim)
    for (b, t) in timesteps.enumerated() {
        for i in 0..<half {
            let arg = t * freqs[i]
            let (s, c) = (Foundation.sin(arg), Foundation.cos(arg))
            data[b * dim + i] = flipSinToCos ? c : s
            data[b * dim + half + i] = flipSinToCos ? s : c
        }
    }
    return try Tensor(shape: [timesteps.count, dim], data: data)
}

/// The timestep MLP: Linear → act → Linear (→ post act). Keys: `linear_1`, `linear_2`.
public final class TimestepEmbedding: Module {
    public let linear1: Linear
    public let linear2: Linear
    public let activation: Activation
    public let postActivation: Activation?

    public init(
        inChannels: Int, embedDim: Int, activation: Activation = .silu, postActivation: Activation? = nil,
        rng: inout RNG
    ) throws {
        (self.activation, self.postActivation) = (activation, postActivation)
        linear1 = try Linear(inFeatures: inChannels, outFeatures: embedDim, rng: &rng)
        linear2 = try Linear(inFeatures: embedDim, outFeatures: embedDim, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("linear_1", linear1)
        v.child("linear_2", linear2)
    }

    /// x [B, in] → [B, embedDim]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h = try linear2(activation(linear1(x)))
        return try postActivation?(h) ?? h
    }
}
