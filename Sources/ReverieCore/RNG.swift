import Foundation

/// A seeded xoshiro256** generator. Its state can be saved into a checkpoint and restored for exact resume.
public struct RNG: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// Seeds the four state words through SplitMix64, as the xoshiro authors recommend.
    public init(seed: UInt64) {
        var z = seed
        func splitmix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// Restores a generator from `stateWords` (four words, as `stateWords` returns).
    public init(stateWords w: [UInt64]) throws {
        guard w.count == 4, w.contains(where: { $0 != 0 }) else {
            throw TensorError.invalidArgument(op: "RNG(stateWords:)", detail: "need four words, not all zero; got \(w)")
        }
        state = (w[0], w[1], w[2], w[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    /// A generator for the module at `key` (`vision_encoder`, `output_head`, …), derived from this one's state
    /// without drawing from it: each module's initial weights depend on the seed and its own key only, not on which
    /// other modules were built before it.
    public func forKey(_ key: String) -> RNG {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return RNG(seed: state.0 ^ state.2 &* 0x9E37_79B9_7F4A_7C15 ^ hash)
    }

    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Standard normal (Box–Muller; one value per call, so the stream does not depend on call pairing).
    public mutating func normal() -> Float {
        let u1 = Double(next() >> 11) * 0x1p-53 + 0x1p-54
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    public static func == (a: RNG, b: RNG) -> Bool { a.stateWords == b.stateWords }
}

extension Tensor {
    /// Normal(mean, std) values from `rng`.
    public static func randn(
        _ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout RNG,
        requiresGrad: Bool = false
    ) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.pointer[i] = mean + std * rng.normal() }
        t.requiresGrad = requiresGrad
        return t
    }

    /// Uniform values in [low, high) from `rng`.
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, rng: inout RNG,
        requiresGrad: Bool = false
    ) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.pointer[i] = low + (high - low) * rng.uniform() }
        t.requiresGrad = requiresGrad
        return t
    }
}
