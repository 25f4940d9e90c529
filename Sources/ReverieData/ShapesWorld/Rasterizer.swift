/// Draws scenes with anti-aliased edges: each pixel's coverage is the fraction of a `samples`×`samples` grid of
/// sub-pixel points inside the shape.
///
/// Geometry is defined on a 64-pixel canvas and scaled to ``canvas``: objects sit at their cell's centre, with the
/// half-extent of their ``ObjectSize``. Squares are axis-aligned, triangles point up (apex at the top, base at the
/// bottom of the box), circles fill the box's inscribed disc.
public struct Rasterizer: Sendable {
    /// Width and height of the rendered images.
    public let canvas: Int
    /// Sub-pixel samples per axis.
    public let samples: Int

    public init(canvas: Int = 64, samples: Int = 4) {
        self.canvas = max(canvas, 12)
        self.samples = max(samples, 1)
    }

    /// Renders `scene`.
    public func render(_ scene: Scene) -> PlanarImage {
        var image = PlanarImage(size: canvas, filledWith: scene.background.rgb)
        for object in scene.objects { draw(object, into: &image) }
        return image
    }

    /// The fraction of pixel (`x`, `y`) that `object` covers, in [0, 1].
    public func coverage(of object: SceneObject, x: Int, y: Int) -> Float {
        let (cx, cy) = object.cell.center(canvas: canvas)
        let h = object.size.halfExtent64 * Double(canvas) / 64
        var inside = 0
        let step = 1 / Double(samples)
        for sy in 0..<samples {
            let py = Double(y) + (Double(sy) + 0.5) * step
            for sx in 0..<samples {
                let px = Double(x) + (Double(sx) + 0.5) * step
                if Self.contains(object.shape, dx: px - cx, dy: py - cy, half: h) { inside += 1 }
            }
        }
        return Float(inside) / Float(samples * samples)
    }

    /// Whether the point (`dx`, `dy`) relative to the object's centre lies inside a shape of half-extent `half`.
    static func contains(_ shape: ShapeKind, dx: Double, dy: Double, half h: Double) -> Bool {
        switch shape {
        case .square:
            return abs(dx) <= h && abs(dy) <= h
        case .circle:
            return dx * dx + dy * dy <= h * h
        case .triangle:
            // Apex (0, -h), base from (-h, h) to (h, h): inside when below both slanted edges and above the base.
            guard dy <= h, dy >= -h else { return false }
            return abs(dx) <= (dy + h) / 2
        }
    }

    private func draw(_ object: SceneObject, into image: inout PlanarImage) {
        let (cx, cy) = object.cell.center(canvas: canvas)
        let h = object.size.halfExtent64 * Double(canvas) / 64
        let x0 = max(Int((cx - h).rounded(.down)) - 1, 0), x1 = min(Int((cx + h).rounded(.up)) + 1, canvas - 1)
        let y0 = max(Int((cy - h).rounded(.down)) - 1, 0), y1 = min(Int((cy + h).rounded(.up)) + 1, canvas - 1)
        let c = object.color.rgb, n = canvas * canvas
        for y in y0...y1 {
            for x in x0...x1 {
                let a = coverage(of: object, x: x, y: y)
                if a == 0 { continue }
                let i = y * canvas + x
                image.pixels[i] += a * (c.r - image.pixels[i])
                image.pixels[n + i] += a * (c.g - image.pixels[n + i])
                image.pixels[2 * n + i] += a * (c.b - image.pixels[2 * n + i])
            }
        }
    }
}
