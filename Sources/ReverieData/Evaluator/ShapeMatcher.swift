/// Tells circles, squares and triangles apart by template matching on a coverage map.
///
/// For each shape the template is scaled so that its area equals the measured area and placed so that its
/// centroid is the measured centroid; the shape whose template differs least (sum of squared differences) wins.
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

    /// Sum of squared differences between the coverage and `shape`'s template.
    func error(_ shape: ShapeKind, area: Float, cx: Float, cy: Float) -> Float {
        let h = (Double(area) / Self.unitArea(shape)).squareRoot()
        // The triangle's centroid lies h/3 below the centre of its box.
        let centerX = Double(cx), centerY = Double(cy) - (shape == .triangle ? h / 3 : 0)
        let step = 1 / Double(samples), perPixel = Float(samples * samples)
        var total: Float = 0
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
                let d = coverage[y * width + x] - Float(inside) / perPixel
                total += d * d
            }
        }
        return total
    }
}
