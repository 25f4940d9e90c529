import Foundation
import ReverieCore

/// How close a drawn image is to a reference: images [C, H, W] with values in [0, 1] (data range 1).
public enum ImageMetrics {
    /// Peak signal-to-noise ratio in dB, 10·log₁₀(1 / MSE); +∞ for identical images.
    public static func psnr(_ a: Tensor, _ b: Tensor) throws -> Double {
        try checkShapes(a, b)
        let (x, y) = (a.toArray(), b.toArray())
        var sum = 0.0
        for i in 0..<x.count {
            let d = Double(x[i]) - Double(y[i])
            sum += d * d
        }
        let mse = sum / Double(max(x.count, 1))
        return mse == 0 ? .infinity : 10 * log10(1 / mse)
    }

    /// Mean structural similarity (Wang et al. 2004) as scikit-image computes it with `gaussian_weights=True`:
    /// local statistics under a Gaussian window of σ 1.5 (radius 5, borders reflected), K₁ 0.01, K₂ 0.03, the mean
    /// over pixels at least 5 from the border, averaged over channels.
    public static func ssim(_ a: Tensor, _ b: Tensor) throws -> Double {
        try checkShapes(a, b)
        guard a.rank == 3 else {
            throw TensorError.shapeMismatch(op: "ssim", detail: "expected [C, H, W], got \(a.shape)")
        }
        let (c, h, w) = (a.shape[0], a.shape[1], a.shape[2])
        let r = 5
        guard h > 2 * r, w > 2 * r else {
            throw TensorError.shapeMismatch(op: "ssim", detail: "images must be larger than 11 × 11, got \(h) × \(w)")
        }
        let kernel = gaussian(sigma: 1.5, radius: r)
        let (c1, c2) = (0.01 * 0.01, 0.03 * 0.03)
        let (x, y) = (a.toArray().map(Double.init), b.toArray().map(Double.init))
        var total = 0.0
        for ch in 0..<c {
            let xs = Array(x[(ch * h * w)..<((ch + 1) * h * w)]), ys = Array(y[(ch * h * w)..<((ch + 1) * h * w)])
            let f = { (v: [Double]) in blur(v, h: h, w: w, kernel: kernel) }
            let (ux, uy) = (f(xs), f(ys))
            let uxx = f(xs.map { $0 * $0 }), uyy = f(ys.map { $0 * $0 }), uxy = f(zip(xs, ys).map { $0 * $1 })
            var sum = 0.0
            for i in r..<(h - r) {
                for j in r..<(w - r) {
                    let k = i * w + j
                    let (mx, my) = (ux[k], uy[k])
                    let (vx, vy, vxy) = (uxx[k] - mx * mx, uyy[k] - my * my, uxy[k] - mx * my)
                    sum += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
                }
            }
            total += sum / Double((h - 2 * r) * (w - 2 * r))
        }
        return total / Double(c)
    }

    static func checkShapes(_ a: Tensor, _ b: Tensor) throws {
        guard a.shape == b.shape else {
            throw TensorError.shapeMismatch(op: "image metric", detail: "\(a.shape) vs \(b.shape)")
        }
    }

    /// scipy.ndimage's Gaussian kernel: exp(−x²/2σ²) on −r…r, normalised.
    static func gaussian(sigma: Double, radius: Int) -> [Double] {
        let k = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let s = k.reduce(0, +)
        return k.map { $0 / s }
    }

    /// Separable filtering of an h × w plane with `kernel`, borders reflected as scipy's `reflect` mode
    /// (d c b a | a b c d | d c b a).
    static func blur(_ v: [Double], h: Int, w: Int, kernel: [Double]) -> [Double] {
        let r = kernel.count / 2
        func reflect(_ i: Int, _ n: Int) -> Int {
            var i = i
            let period = 2 * n
            i = ((i % period) + period) % period
            return i < n ? i : period - 1 - i
        }
        var rows = [Double](repeating: 0, count: h * w)
        for i in 0..<h {
            for j in 0..<w {
                var s = 0.0
                for t in -r...r { s += kernel[t + r] * v[i * w + reflect(j + t, w)] }
                rows[i * w + j] = s
            }
        }
        var out = [Double](repeating: 0, count: h * w)
        for i in 0..<h {
            for j in 0..<w {
                var s = 0.0
                for t in -r...r { s += kernel[t + r] * rows[reflect(i + t, h) * w + j] }
                out[i * w + j] = s
            }
        }
        return out
    }
}
