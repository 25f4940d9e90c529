import ReverieCore

/// Reads an image back into a scene: background, then each object's shape, colour, cell and size.
///
/// 1. Background: the per-channel median of the border pixels, labelled with the nearest background colour.
/// 2. Objects: 4-connected components of pixels whose (3×3 box-smoothed) colour is farther than
///    ``maskThreshold`` from the background; components under ``minimumPixels`` are noise.
/// 3. Colour: the median of the component's most saturated pixels, labelled with the nearest palette colour.
/// 4. Coverage: each pixel's position on the line from the background to that colour, in [0, 1]. Area, width
///    (sum over columns of the column's highest coverage), height and centroid are coverage-weighted, so blur
///    moves them little.
/// 5. Shape by matching circle, square and triangle templates of the measured area at the measured centroid,
///    sharp and blurred (`ShapeMatcher`). Size from the larger of width and height. Cell from the centroid.
///
/// Works on any square canvas; thresholds in pixels are scaled from the 64-pixel geometry.
public struct SceneReader: Sendable {
    /// RGB distance from the background above which a smoothed pixel belongs to an object.
    public var maskThreshold: Float = 0.15
    /// Components with fewer pixels, or less coverage-weighted area, on a 64-pixel canvas are ignored as noise.
    public var minimumPixels: Int = 8
    /// Coverage below this counts as zero, so noise around an object does not inflate its measurements.
    public var coverageFloor: Float = 0.2

    public init() {}

    /// Reads a `[3, N, N]` tensor with values in [0, 1].
    public func read(_ tensor: Tensor) throws -> ReadScene { read(try PlanarImage(tensor: tensor)) }

    /// Reads `image`. Values outside [0, 1] are clamped and NaNs read as 0, so any model output can be scored.
    public func read(_ raw: PlanarImage) -> ReadScene {
        var image = raw
        for i in image.pixels.indices where !(0...1).contains(image.pixels[i]) {
            image.pixels[i] = image.pixels[i] > 1 ? 1 : 0
        }
        let n = image.size
        let bg = borderMedian(image)
        let smooth = boxSmoothedDistance(image, from: bg)
        let scale = Float(n) / 64
        let minPixels = max(Int((Float(minimumPixels) * scale * scale).rounded()), 1)
        let components = ConnectedComponents.label(smooth.map { $0 > maskThreshold }, size: n)
            .filter { $0.count >= minPixels }
        var owner = [Int](repeating: -1, count: n * n)
        for (k, c) in components.enumerated() { for i in c { owner[i] = k } }
        // Smoothing spreads a lone bad pixel over 3×3, so also require that much coverage-weighted area.
        let objects = components.indices.compactMap { measure(components[$0], id: $0, owner: owner, image, bg) }
            .filter { $0.area >= Float(minPixels) }
        return ReadScene(background: BackgroundColor.nearest(to: bg), objects: objects)
    }

    func borderMedian(_ image: PlanarImage) -> RGB {
        let n = image.size
        var border: [(Int, Int)] = []
        for i in 0..<n {
            border += [(i, 0), (i, n - 1)]
            if i > 0 && i < n - 1 { border += [(0, i), (n - 1, i)] }
        }
        let colors = border.map { image.pixel($0.0, $0.1) }
        return RGB(Self.median(colors.map(\.r)), Self.median(colors.map(\.g)), Self.median(colors.map(\.b)))
    }

    /// Distance from `bg` of the 3×3 box mean at each pixel (clamped at the edges).
    func boxSmoothedDistance(_ image: PlanarImage, from bg: RGB) -> [Float] {
        let n = image.size, plane = n * n
        var out = [Float](repeating: 0, count: plane)
        let ref = [bg.r, bg.g, bg.b]
        for y in 0..<n {
            for x in 0..<n {
                var d2: Float = 0
                for c in 0..<3 {
                    var s: Float = 0
                    for dy in -1...1 {
                        let yy = min(max(y + dy, 0), n - 1)
                        for dx in -1...1 { s += image.pixels[c * plane + yy * n + min(max(x + dx, 0), n - 1)] }
                    }
                    let d = s / 9 - ref[c]
                    d2 += d * d
                }
                out[y * n + x] = d2.squareRoot()
            }
        }
        return out
    }

    /// Measures component `id` and labels it; nil if its colour cannot be told from the background.
    func measure(_ pixels: [Int], id: Int, owner: [Int], _ image: PlanarImage, _ bg: RGB) -> ReadObject? {
        let n = image.size
        // Colour: median of the pixels at or above the 75th percentile of distance from the background.
        let distances = pixels.map { image.pixel($0 % n, $0 / n).distance(to: bg) }
        let cut = distances.sorted()[(distances.count * 3) / 4]
        let core = pixels.indices.filter { distances[$0] >= cut }.map { image.pixel(pixels[$0] % n, pixels[$0] / n) }
        let color = RGB(Self.median(core.map(\.r)), Self.median(core.map(\.g)), Self.median(core.map(\.b)))
        let dr = color.r - bg.r, dg = color.g - bg.g, db = color.b - bg.b
        let norm2 = dr * dr + dg * dg + db * db
        guard norm2 > 1e-4 else { return nil }

        // Coverage over the component's box grown by 2 pixels, skipping pixels of other components.
        let xs = pixels.map { $0 % n }, ys = pixels.map { $0 / n }
        let x0 = max((xs.min() ?? 0) - 2, 0), x1 = min((xs.max() ?? 0) + 2, n - 1)
        let y0 = max((ys.min() ?? 0) - 2, 0), y1 = min((ys.max() ?? 0) + 2, n - 1)
        var colMax = [Float](repeating: 0, count: x1 - x0 + 1), rowMax = [Float](repeating: 0, count: y1 - y0 + 1)
        let boxWidth = x1 - x0 + 1
        var coverage = [Float](repeating: 0, count: boxWidth * (y1 - y0 + 1))
        var area: Float = 0, sx: Float = 0, sy: Float = 0
        for y in y0...y1 {
            for x in x0...x1 where owner[y * n + x] == -1 || owner[y * n + x] == id {
                let p = image.pixel(x, y)
                var a = ((p.r - bg.r) * dr + (p.g - bg.g) * dg + (p.b - bg.b) * db) / norm2
                a = a < coverageFloor ? 0 : min(a, 1)
                coverage[(y - y0) * boxWidth + x - x0] = a
                area += a
                sx += a * (Float(x) + 0.5)
                sy += a * (Float(y) + 0.5)
                colMax[x - x0] = max(colMax[x - x0], a)
                rowMax[y - y0] = max(rowMax[y - y0], a)
            }
        }
        guard area > 0 else { return nil }
        let width = colMax.reduce(0, +), height = rowMax.reduce(0, +)
        let cx = sx / area, cy = sy / area
        let cellSize = Float(n) / 3
        guard let cell = GridCell(row: min(max(Int(cy / cellSize), 0), 2), column: min(max(Int(cx / cellSize), 0), 2))
        else { return nil }
        let matcher = ShapeMatcher(coverage: coverage, x0: x0, y0: y0, width: boxWidth, height: y1 - y0 + 1)
        let shape = matcher.bestShape(area: area, cx: cx, cy: cy)
        let extent64 = max(width, height) * 64 / Float(n)
        let size: ObjectSize = extent64 > 13 ? .large : .small
        let object = SceneObject(shape: shape, color: ObjectColor.nearest(to: color), size: size, cell: cell)
        return ReadObject(
            object: object, meanColor: color, area: area, width: width, height: height,
            centroidX: cx, centroidY: cy)
    }

    static func median(_ v: [Float]) -> Float {
        guard !v.isEmpty else { return 0 }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
