import Foundation
import ReverieCore

/// Seeded image degradations for testing the evaluator: separable Gaussian blur, then additive Gaussian noise,
/// clamped to [0, 1].
public struct Degradation: Sendable, Equatable {
    /// Blur standard deviation in pixels (0 = none).
    public var blurSigma: Float
    /// Noise standard deviation in [0, 1] units (0 = none).
    public var noiseSigma: Float

    public init(blurSigma: Float, noiseSigma: Float) {
        self.blurSigma = blurSigma
        self.noiseSigma = noiseSigma
    }

    /// The done-bar degradation of issue 5: blur σ = 0.7 px, noise σ = 0.03.
    public static let standard = Degradation(blurSigma: 0.7, noiseSigma: 0.03)

    /// Applies the degradation, drawing the noise from `rng`.
    public func apply(to image: PlanarImage, rng: inout RNG) -> PlanarImage {
        var out = image
        if blurSigma > 0 { out.pixels = Self.blur(image.pixels, size: image.size, sigma: blurSigma) }
        if noiseSigma > 0 {
            for i in out.pixels.indices {
                out.pixels[i] = min(max(out.pixels[i] + noiseSigma * rng.normal(), 0), 1)
            }
        }
        return out
    }

    /// Normalised Gaussian taps for offsets -radius...radius, radius = ceil(3σ).
    static func kernel(sigma: Float) -> [Float] {
        let radius = max(Int((3 * sigma).rounded(.up)), 1)
        var k = (-radius...radius).map { d -> Float in
            let x = Float(d)
            return Float(Foundation.exp(Double(-x * x / (2 * sigma * sigma))))
        }
        let sum = k.reduce(0, +)
        for i in k.indices { k[i] /= sum }
        return k
    }

    /// Separable blur of three `size`×`size` planes; edges replicate the border pixel.
    static func blur(_ planes: [Float], size n: Int, sigma: Float) -> [Float] {
        let k = kernel(sigma: sigma), r = k.count / 2
        var tmp = planes, out = planes
        for c in 0..<3 {
            let base = c * n * n
            for y in 0..<n {
                for x in 0..<n {
                    var s: Float = 0
                    for j in -r...r { s += k[j + r] * planes[base + y * n + min(max(x + j, 0), n - 1)] }
                    tmp[base + y * n + x] = s
                }
            }
            for y in 0..<n {
                for x in 0..<n {
                    var s: Float = 0
                    for j in -r...r { s += k[j + r] * tmp[base + min(max(y + j, 0), n - 1) * n + x] }
                    out[base + y * n + x] = s
                }
            }
        }
        return out
    }
}
