import ReverieCore

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
        return coverage(object.shape, cx: cx, cy: cy, half: object.size.halfExtent64 * Double(canvas) / 64, x: x, y: y)
    }

    func coverage(_ shape: ShapeKind, cx: Double, cy: Double, half h: Double, x: Int, y: Int) -> Float {
        var inside = 0
        let step = 1 / Double(samples)
        for sy in 0..<samples {
            let py = Double(y) + (Double(sy) + 0.5) * step
            for sx in 0..<samples {
                let px = Double(x) + (Double(sx) + 0.5) * step
                if Self.contains(shape, dx: px - cx, dy: py - cy, half: h) { inside += 1 }
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

    /// Renders `scene` with each object moved, scaled and tinted at random within `jitter`: the imperfect
    /// drawings a model makes, for testing the evaluator on them (and for augmentation).
    public func render(_ scene: Scene, jitter: RenderJitter, rng: inout RNG) -> PlanarImage {
        var image = PlanarImage(size: canvas, filledWith: scene.background.rgb)
        let unit = Double(canvas) / 64
        func spread(_ r: Double) -> Double { (Double(rng.uniform()) * 2 - 1) * r }
        for o in scene.objects {
            let (cx, cy) = o.cell.center(canvas: canvas)
            let h = o.size.halfExtent64 * unit * (1 + spread(jitter.scale))
            var c = o.color.rgb
            c.r = min(max(c.r + Float(spread(Double(jitter.color))), 0), 1)
            c.g = min(max(c.g + Float(spread(Double(jitter.color))), 0), 1)
            c.b = min(max(c.b + Float(spread(Double(jitter.color))), 0), 1)
            draw(
                o.shape, cx: cx + spread(jitter.shift) * unit, cy: cy + spread(jitter.shift) * unit, half: h,
                color: c, into: &image)
        }
        return image
    }

    private func draw(_ object: SceneObject, into image: inout PlanarImage) {
        let (cx, cy) = object.cell.center(canvas: canvas)
        draw(
            object.shape, cx: cx, cy: cy, half: object.size.halfExtent64 * Double(canvas) / 64,
            color: object.color.rgb, into: &image)
    }

    private func draw(
        _ shape: ShapeKind, cx: Double, cy: Double, half h: Double, color c: RGB,
        into image: inout PlanarImage
    ) {
        let x0 = max(Int((cx - h).rounded(.down)) - 1, 0), x1 = min(Int((cx + h).rounded(.up)) + 1, canvas - 1)
        let y0 = max(Int((cy - h).rounded(.down)) - 1, 0), y1 = min(Int((cy + h).rounded(.up)) + 1, canvas - 1)
        guard x0 <= x1, y0 <= y1 else { return }
        let n = canvas * canvas
        for y in y0...y1 {
            for x in x0...x1 {
                let a = coverage(shape, cx: cx, cy: cy, half: h, x: x, y: y)
                if a == 0 { continue }
                let i = y * canvas + x
                image.pixels[i] += a * (c.r - image.pixels[i])
                image.pixels[n + i] += a * (c.g - image.pixels[n + i])
                image.pixels[2 * n + i] += a * (c.b - image.pixels[2 * n + i])
            }
        }
    }
}

/// Bounds of the random changes ``Rasterizer/render(_:jitter:rng:)`` makes to each object.
public struct RenderJitter: Sendable, Equatable {
    /// Largest shift of the centre along each axis, in pixels of a 64-pixel canvas.
    public var shift: Double
    /// Largest relative change of the size (0.1 = ±10 %).
    public var scale: Double
    /// Largest change of each colour channel.
    public var color: Float

    public init(shift: Double, scale: Double, color: Float) {
        self.shift = shift
        self.scale = scale
        self.color = color
    }
}
