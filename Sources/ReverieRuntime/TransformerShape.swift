import ReverieCore

/// A part that is a transformer: the four sizes every one has, read and checked the same way.
protocol TransformerShaped {
    var hidden: Int { get set }
    var intermediate: Int { get set }
    var layers: Int { get set }
    var heads: Int { get set }
}

/// The keys of the four sizes.
private enum TransformerShapeKeys: String, CodingKey {
    case hidden, intermediate, layers, heads
}

extension TransformerShaped {
    /// Reads the four sizes the decoder's map gives (the part reads its other keys from the same map).
    mutating func updateShape(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: TransformerShapeKeys.self)
        try c.update(&hidden, .hidden)
        try c.update(&intermediate, .intermediate)
        try c.update(&layers, .layers)
        try c.update(&heads, .heads)
    }

    /// Checks the four sizes.
    func validateShape() throws {
        try TransformerShape.validate(hidden: hidden, intermediate: intermediate, layers: layers, heads: heads)
    }
}

/// The sizes every transformer part shares, checked the same way.
enum TransformerShape {
    /// Upper bounds: far above any CPU model, low enough that no typo reserves terabytes.
    static let maxWidth = 1 << 16, maxLayers = 1024

    static func validate(hidden: Int, intermediate: Int, layers: Int, heads: Int) throws {
        try require(hidden, in: 1...maxWidth, "hidden")
        try require(intermediate, in: 1...(4 * maxWidth), "intermediate")
        try require(layers, in: 1...maxLayers, "layers")
        try require(heads, in: 1...hidden, "heads")
        try require(hidden % heads == 0, "heads", "hidden \(hidden) is not a multiple of \(heads)")
    }
}
