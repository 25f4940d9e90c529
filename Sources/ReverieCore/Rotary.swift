import Foundation

/// Rotary position embedding in the Hugging Face Llama convention ("rotate half": dimension j pairs with
/// j + D/2), with the inverse frequencies and angles computed in Float32 exactly as transformers does.
public struct RotaryEmbedding: Sendable {
    public let dim: Int
    public let theta: Float
    public let scaling: RopeScaling
    let inverseFrequencies: [Float]
    /// cos / sin for positions 0..<cachedPositions, [P, D/2] each, so layers do not recompute them per call.
    let cachedCos: [Float], cachedSin: [Float]
    public let cachedPositions: Int

    /// - Parameters:
    ///   - dim: the rotated width (a head's width), even.
    ///   - theta: the base of the frequencies (Llama's `rope_theta`).
    ///   - cachedPositions: positions whose tables are computed once here (e.g. the model's context length);
    ///     others are computed per call.
    ///   - scaling: transformers' `rope_scaling` (`rope_parameters`).
    public init(dim: Int, theta: Float = 10_000, cachedPositions: Int = 0, scaling: RopeScaling = .none) throws {
        guard dim > 0, dim % 2 == 0, cachedPositions >= 0 else {
            throw TensorError.invalidArgument(
                op: "RotaryEmbedding", detail: "head dimension \(dim) must be even and positive, cache size ≥ 0")
        }
        self.dim = dim
        (self.theta, self.scaling) = (theta, scaling)
        inverseFrequencies = scaling.inverseFrequencies(dim: dim, theta: theta)
        // A dynamic scaling's frequencies change past its context: only the positions below it are cached.
        if case let .dynamic(_, maxPositions) = scaling {
            self.cachedPositions = Swift.min(cachedPositions, maxPositions)
        } else {
            self.cachedPositions = cachedPositions
        }
        (cachedCos, cachedSin) = Self.computeTables(Array(0..<self.cachedPositions), inverseFrequencies, dim / 2)
    }

    /// cos and sin tables, each [T, D/2], for the given positions.
    func tables(_ positions: [Int]) -> (cos: [Float], sin: [Float]) {
        let half = dim / 2
        guard positions.allSatisfy({ $0 >= 0 && $0 < cachedPositions }) else {
            let length = (positions.max() ?? 0) + 1
            let frequencies =
                scaling.dependsOnLength
                ? scaling.inverseFrequencies(dim: dim, theta: theta, length: length) : inverseFrequencies
            return Self.computeTables(positions, frequencies, half)
        }
        var c = [Float](repeating: 0, count: positions.count * half), s = c
        for (t, pos) in positions.enumerated() {
            for i in 0..<half {
                c[t * half + i] = cachedCos[pos * half + i]
                s[t * half + i] = cachedSin[pos * half + i]
            }
        }
        return (c, s)
    }

    static func computeTables(_ positions: [Int], _ inverseFrequencies: [Float], _ half: Int)
        -> (cos: [Float], sin: [Float])
    {
        var c = [Float](repeating: 0, count: positions.count * half), s = c
        for (t, pos) in positions.enumerated() {
            for i in 0..<half {
                let angle = Float(pos) * inverseFrequencies[i]
                c[t * half + i] = Foundation.cos(angle)
                s[t * half + i] = Foundation.sin(angle)
            }
        }
        return (c, s)
    }

    /// Rotates x ([B, H, T, D]) by the angles of `positions` (one per time step).
    public func callAsFunction(_ x: Tensor, positions: [Int]) throws -> Tensor {
        guard x.rank == 4, x.shape[3] == dim, x.shape[2] == positions.count else {
            throw TensorError.shapeMismatch(
                op: "rotaryEmbedding",
                detail: "input \(shapeString(x.shape)) with head dim \(dim) and \(positions.count) positions")
        }
        let (cosT, sinT) = tables(positions)
        let t = positions.count, half = dim / 2
        let out = Tensor(uninitialized: x.shape)
        Self.rotate(x.pointer, out.pointer, rows: x.count / dim, t: t, half: half, cosT, sinT, inverse: false)
        return out.recorded("rotaryEmbedding", [x]) { g in
            let dx = Tensor(uninitialized: g.shape)
            Self.rotate(g.pointer, dx.pointer, rows: g.count / self.dim, t: t, half: half, cosT, sinT, inverse: true)
            return [dx]
        }
    }

    static func rotate(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, t: Int, half: Int,
        _ cosT: [Float], _ sinT: [Float], inverse: Bool
    ) {
        let sign: Float = inverse ? -1 : 1
        ThreadPolicy.parallelFor(rows, grain: Swift.max(1, 8_192 / Swift.max(half, 1))) { r in
            for row in r {
                let tb = (row % t) * half
                let xr = x + row * 2 * half, yr = y + row * 2 * half
                for i in 0..<half {
                    let c = cosT[tb + i], s = sign * sinT[tb + i]
                    let a = xr[i], b = xr[i + half]
                    yr[i] = a * c - b * s
                    yr[i + half] = b * c + a * s
                }
            }
        }
    }
}
