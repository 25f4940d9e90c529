/// The three shapes a ShapesWorld object can take.
public enum ShapeKind: String, CaseIterable, Codable, Sendable, Hashable {
    case circle, square, triangle

    /// The word captions use for the shape.
    public var word: String { rawValue }
}

/// The two object sizes. Every shape of a size has the same half-extent, so size is read from the bounding box.
public enum ObjectSize: String, CaseIterable, Codable, Sendable, Hashable {
    case small, large

    /// Half the side of the object's bounding box on a 64-pixel canvas.
    public var halfExtent64: Double {
        switch self {
        case .small: return 4.5
        case .large: return 8.5
        }
    }

    /// The other size, for resize edits.
    public var other: ObjectSize { self == .small ? .large : .small }
}
