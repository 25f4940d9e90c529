/// Tells circles, squares and triangles apart by template matching on a coverage map.
///
/// For each shape the template is scaled so that its area equals the measured area and placed so that its
/// centroid is the measured centroid, then compared sharp and blurred (``blurSigmas``); the shape whose best
/// template differs least (sum of squared differences) wins.
/// Matching whole templates uses every pixel of the object, so blur and noise, which spoil corner and fill-ratio
/// measurements of 9-pixel objects, barely move the answer; scaling and centring from the measurements keep it
/// working on objects a model draws slightly off size or off centre.
struct ShapeMatcher {
    /// Coverage in [0, 1] over the box x0..<x0+width, y0..<y0+height (row-major).
    let coverage: [Float]
    let x0: Int, y0: Int, width: Int, height: Int
    /// Template sub-samples per pixel axis.
    var samples = 3

    /// The best shape for an object of `area` pixels with centroid (`cx`, `cy`).
    func bestShape(area: Float, cx: Float, cy: Float) -> ShapeKind {
        var best = ShapeKind.circle, bestError = Float.infinity
        for shape in ShapeKind.allCases {
            let e = error(shape, area: area, cx: cx, cy: cy)
            if e < bestError {
                bestError = e
                best = shape
            }
        }
        return best
    }

    /// Area of a shape of half-extent 1 (see `Rasterizer.contains`).
    static func unitArea(_ shape: ShapeKind) -> Double {
        switch shape {
        case .circle: return Double.pi
        case .square: return 4
        case .triangle: return 2
        }
    }

    /// Blurs tried on each template: a sharp render, and the softer edges of degraded or generated images.
    static let blurSigmas: [Float] = [0, 0.8, 1.4]

    /// Least sum of squared differences between the coverage and `shape`'s template, over ``blurSigmas``.
    func error(_ shape: ShapeKind, area: Float, cx: Float, cy: Float) -> Float {
        let template = self.template(shape, area: area, cx: cx, cy: cy)
        return Self.blurSigmas.map { sigma in
            let t = sigma > 0 ? Self.blur(template, width: width, height: height, sigma: sigma) : template
            var total: Float = 0
            for i in coverage.indices {
                let d = coverage[i] - t[i]
                total += d * d
            }
            return total
        }.min() ?? .infinity
    }

    /// The coverage of `shape` scaled to `area` with its centroid at (`cx`, `cy`), over the box.
    func template(_ shape: ShapeKind, area: Float, cx: Float, cy: Float) -> [Float] {
        let h = (Double(area) / Self.unitArea(shape)).squareRoot()
        // The triangle's centroid lies h/3 below the centre of its box.
        let centerX = Double(cx), centerY = Double(cy) - (shape == .triangle ? h / 3 : 0)
        let step = 1 / Double(samples), perPixel = Float(samples * samples)
        var out = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                var inside = 0
                for sy in 0..<samples {
                    let py = Double(y0 + y) + (Double(sy) + 0.5) * step - centerY
                    for sx in 0..<samples {
                        let px = Double(x0 + x) + (Double(sx) + 0.5) * step - centerX
                        if Rasterizer.contains(shape, dx: px, dy: py, half: h) { inside += 1 }
                    }
                }
                out[y * width + x] = Float(inside) / perPixel
            }
        }
        return out
    }

    /// Separable Gaussian blur of a `width`×`height` map with zero outside (the box's margin is background).
    static func blur(_ map: [Float], width w: Int, height h: Int, sigma: Float) -> [Float] {
        let k = Degradation.kernel(sigma: sigma), r = k.count / 2
        var tmp = [Float](repeating: 0, count: map.count), out = tmp
        for y in 0..<h {
            for x in 0..<w {
                var s: Float = 0
                for j in -r...r where x + j >= 0 && x + j < w { s += k[j + r] * map[y * w + x + j] }
                tmp[y * w + x] = s
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                var s: Float = 0
                for j in -r...r where y + j >= 0 && y + j < h { s += k[j + r] * tmp[(y + j) * w + x] }
                out[y * w + x] = s
            }
        }
        return out
    }
}
