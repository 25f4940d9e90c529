import ReverieCore
import ReverieData
import ReverieRuntime

/// How loud shape and colour are in an encoder's patch features. Over every one-object scene (each background,
/// colour, cell and size: 324 scenes), the mean square difference between the features of two scenes that differ
/// only in the object's shape (circle against square, circle against triangle) or only in its colour (against the
/// next colour of `ObjectColor.allCases`). The features are layer-normed (per-element energy about 1), so the numbers
/// compare across encoders. An MSE regression onto the features — the LLM's — learns a loud difference long before a
/// quiet one (README, "How loud shape is in the features").
public enum FeatureLoudness {
    /// The scores `loud_circle_square`, `loud_circle_triangle`, `loud_colour`; `features` maps pixels
    /// [B, 3, canvas, canvas] in [0, 1] to [B, P, D].
    public static func measure(canvas: Int, features: (Tensor) throws -> Tensor) throws -> [(String, Double)] {
        let rasterizer = Rasterizer(canvas: canvas)
        let colors = ObjectColor.allCases
        var sums = [Double](repeating: 0, count: 3), n = 0
        for background in BackgroundColor.allCases {
            for (c, color) in colors.enumerated() {
                for size in ObjectSize.allCases {
                    // Per cell: circle, square, triangle in `color`, then a circle in the next colour.
                    let variants: [(ShapeKind, ObjectColor)] = [
                        (.circle, color), (.square, color), (.triangle, color),
                        (.circle, colors[(c + 1) % colors.count]),
                    ]
                    let scenes = try GridCell.all.flatMap { cell in
                        try variants.map {
                            try Scene(
                                background: background,
                                objects: [SceneObject(shape: $0.0, color: $0.1, size: size, cell: cell)])
                        }
                    }
                    let f = try withNoGrad { try features(ImageBatch.pixels(scenes.map { rasterizer.render($0) })) }
                    let per = f.shape.elementCount / scenes.count, a = f.toArray()
                    func msd(_ i: Int, _ j: Int) -> Double {
                        var s = 0.0
                        for k in 0..<per {
                            let d = Double(a[i * per + k] - a[j * per + k])
                            s += d * d
                        }
                        return s / Double(per)
                    }
                    for cell in 0..<GridCell.all.count {
                        let base = cell * variants.count
                        for (t, other) in [1, 2, 3].enumerated() { sums[t] += msd(base, base + other) }
                        n += 1
                    }
                }
            }
        }
        return zip(["loud_circle_square", "loud_circle_triangle", "loud_colour"], sums).map { ($0, $1 / Double(n)) }
    }
}
