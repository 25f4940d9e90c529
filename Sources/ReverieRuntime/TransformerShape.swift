import ReverieCore

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
