/// An RGB colour with channels in [0, 1].
public struct RGB: Hashable, Sendable, Codable {
    public var r: Float
    public var g: Float
    public var b: Float

    public init(_ r: Float, _ g: Float, _ b: Float) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// Euclidean distance in RGB space.
    public func distance(to o: RGB) -> Float {
        let dr = r - o.r, dg = g - o.g, db = b - o.b
        return (dr * dr + dg * dg + db * db).squareRoot()
    }
}

/// The object colours. Chosen to be far apart from each other and from every background (a test checks the
/// minimum distances), so the evaluator can read them back through blur and noise.
public enum ObjectColor: String, CaseIterable, Codable, Sendable, Hashable {
    case red, green, blue, yellow, purple, orange

    /// The word captions use for the colour.
    public var word: String { rawValue }

    public var rgb: RGB {
        switch self {
        case .red: return RGB(0.86, 0.12, 0.12)
        case .green: return RGB(0.10, 0.62, 0.18)
        case .blue: return RGB(0.12, 0.28, 0.92)
        case .yellow: return RGB(0.96, 0.86, 0.08)
        case .purple: return RGB(0.58, 0.16, 0.72)
        case .orange: return RGB(0.99, 0.52, 0.06)
        }
    }

    /// The palette colour nearest to `c`.
    public static func nearest(to c: RGB) -> ObjectColor {
        allCases.min { $0.rgb.distance(to: c) < $1.rgb.distance(to: c) } ?? .red
    }
}

/// The background colours. Their words never name an object colour, so a caption parser can tell them apart.
public enum BackgroundColor: String, CaseIterable, Codable, Sendable, Hashable {
    case white, gray, black

    /// The word captions use for the background.
    public var word: String { rawValue }

    public var rgb: RGB {
        switch self {
        case .white: return RGB(0.96, 0.96, 0.96)
        case .gray: return RGB(0.50, 0.50, 0.50)
        case .black: return RGB(0.06, 0.06, 0.06)
        }
    }

    /// The background colour nearest to `c`.
    public static func nearest(to c: RGB) -> BackgroundColor {
        allCases.min { $0.rgb.distance(to: c) < $1.rgb.distance(to: c) } ?? .white
    }
}
