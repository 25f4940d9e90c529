import ReverieCore

/// The small text tower of the contrastive (siglip) stage.
public struct TextPart: Codable, Sendable, Equatable, SelfChecking, TransformerShaped {
    public var hidden = 64, intermediate = 128, layers = 2, heads = 4, maxPositions = 128, projection = 64

    enum CodingKeys: String, CodingKey {
        case hidden, intermediate, layers, heads
        case maxPositions = "max_positions"
        case projection
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        try updateShape(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&maxPositions, .maxPositions)
        try c.update(&projection, .projection)
    }

    public func validate() throws {
        try validateShape()
        try require(maxPositions, in: 1...(1 << 20), "max_positions")
        try require(projection, in: 1...TransformerShape.maxWidth, "projection")
    }
}
