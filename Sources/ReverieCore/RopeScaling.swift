import Foundation

/// How a rotary embedding stretches its frequencies beyond the context it was trained on: transformers'
/// `rope_type`s `default`, `linear`, `dynamic` (NTK-aware, grown with the sequence) and `llama3`.
public enum RopeScaling: Sendable, Equatable {
    case none
    /// Positions divided by `factor` (every inverse frequency divided by it).
    case linear(factor: Float)
    /// Past `maxPositions`, the base grows with the sequence length: θ·((f·L/max) − (f − 1))^(D/(D−2)).
    case dynamic(factor: Float, maxPositions: Int)
    /// Llama 3.x: low frequencies divided by `factor`, high ones kept, the band between interpolated.
    case llama3(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float, originalMaxPositions: Int)

    /// The inverse frequencies for a rotated width `dim`, base `theta`, in transformers' float32 arithmetic; a
    /// `dynamic` scaling reads the sequence length `length` (the largest position + 1).
    func inverseFrequencies(dim: Int, theta: Float, length: Int = 0) -> [Float] {
        func base(_ theta: Float) -> [Float] {
            stride(from: 0, to: dim, by: 2).map { 1 / Foundation.pow(theta, Float($0) / Float(dim)) }
        }
        switch self {
        case .none:
            return base(theta)
        case let .linear(factor):
            return base(theta).map { $0 / factor }
        case let .dynamic(factor, maxPositions):
            guard length > maxPositions else { return base(theta) }
            let d = Double(dim)
            let grown =
                Double(theta)
                * Foundation.pow(
                    Double(factor) * Double(length) / Double(maxPositions) - Double(factor - 1), d / (d - 2))
            return base(Float(grown))
        case let .llama3(factor, low, high, original):
            let lowWavelength = Float(original) / low, highWavelength = Float(original) / high
            return base(theta).map { f in
                let wavelength = 2 * Float.pi / f
                if wavelength < highWavelength { return f }
                if wavelength > lowWavelength { return f / factor }
                let smooth = (Float(original) / wavelength - low) / (high - low)
                return (1 - smooth) * f / factor + smooth * f
            }
        }
    }

    /// Whether the frequencies depend on the sequence length (so tables cannot be cached past `maxPositions`).
    var dependsOnLength: Bool { if case .dynamic = self { true } else { false } }
}

/// transformers' `rope_scaling` / `rope_parameters` keys (`dynamic` reads its context from the model's
/// `max_position_embeddings`, which the decoder supplies as `RopeScaling.contextKey`).
extension RopeScaling: Codable {
    enum CodingKeys: String, CodingKey {
        case type = "rope_type"
        case legacyType = "type"
        case factor
        case lowFrequencyFactor = "low_freq_factor"
        case highFrequencyFactor = "high_freq_factor"
        case originalMaxPositions = "original_max_position_embeddings"
    }

    /// The `userInfo` key of the model's `max_position_embeddings` (a `dynamic` scaling's context).
    public static let contextKey = CodingUserInfoKey(rawValue: "reverie.max_position_embeddings")!

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type =
            try c.decodeIfPresent(String.self, forKey: .type) ?? c.decodeIfPresent(String.self, forKey: .legacyType)
            ?? "default"
        // Every key is read before any check, so a misspelt one is reported as such.
        let factor = try c.decodeIfPresent(Float.self, forKey: .factor)
        let low = try c.decodeIfPresent(Float.self, forKey: .lowFrequencyFactor)
        let high = try c.decodeIfPresent(Float.self, forKey: .highFrequencyFactor)
        let original = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositions)
        func checkedFactor() throws -> Float {
            guard let factor else { throw ConfigurationError(key: "factor", "missing: rope_type '\(type)' needs it") }
            guard factor >= 1, factor.isFinite else {
                throw ConfigurationError(key: "factor", "rope factor \(factor) must be at least 1")
            }
            return factor
        }
        switch type {
        case "default": self = .none
        case "linear": self = .linear(factor: try checkedFactor())
        case "dynamic":
            self = .dynamic(
                factor: try checkedFactor(), maxPositions: decoder.userInfo[Self.contextKey] as? Int ?? 2048)
        case "llama3":
            guard let low, let high, let original, low > 0, high > low, original > 0 else {
                throw ConfigurationError(
                    key: "high_freq_factor",
                    "llama3 rope needs low_freq_factor, high_freq_factor (0 < low < high) and "
                        + "original_max_position_embeddings > 0")
            }
            self = .llama3(
                factor: try checkedFactor(), lowFrequencyFactor: low, highFrequencyFactor: high,
                originalMaxPositions: original)
        default:
            throw ConfigurationError(
                key: "rope_type", "'\(type)' is not implemented (default, linear, dynamic, llama3)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .none: try c.encode("default", forKey: .type)
        case let .linear(factor):
            try c.encode("linear", forKey: .type)
            try c.encode(factor, forKey: .factor)
        case let .dynamic(factor, _):
            try c.encode("dynamic", forKey: .type)
            try c.encode(factor, forKey: .factor)
        case let .llama3(factor, low, high, original):
            try c.encode("llama3", forKey: .type)
            try c.encode(factor, forKey: .factor)
            try c.encode(low, forKey: .lowFrequencyFactor)
            try c.encode(high, forKey: .highFrequencyFactor)
            try c.encode(original, forKey: .originalMaxPositions)
        }
    }
}
