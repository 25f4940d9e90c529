/// One object of a scene.
public struct SceneObject: Hashable, Codable, Sendable {
    public var shape: ShapeKind
    public var color: ObjectColor
    public var size: ObjectSize
    public var cell: GridCell

    public init(shape: ShapeKind, color: ObjectColor, size: ObjectSize, cell: GridCell) {
        self.shape = shape
        self.color = color
        self.size = size
        self.cell = cell
    }
}

/// What a ShapesWorld image shows: a background and objects in distinct grid cells.
///
/// Objects are kept sorted by cell, so two scenes with the same content compare equal whatever order the objects
/// were given in.
public struct Scene: Hashable, Codable, Sendable {
    public let background: BackgroundColor
    public let objects: [SceneObject]

    /// Throws ``ShapesWorldError/overlappingObjects(_:)`` if two objects share a cell.
    public init(background: BackgroundColor, objects: [SceneObject]) throws {
        let sorted = objects.sorted { $0.cell < $1.cell }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.cell == b.cell {
            throw ShapesWorldError.overlappingObjects(a.cell.name)
        }
        self.background = background
        self.objects = sorted
    }

    /// For objects the caller has already placed in distinct cells (generators, edits on free cells).
    init(background: BackgroundColor, distinctCells objects: [SceneObject]) {
        self.background = background
        self.objects = objects.sorted { $0.cell < $1.cell }
    }

    /// The cells no object occupies.
    public var freeCells: [GridCell] {
        let used = Set(objects.map(\.cell))
        return GridCell.all.filter { !used.contains($0) }
    }

    /// "small red circle (top left), large blue square (center) on white", for messages and logs.
    public var summary: String { Self.summary(background: background, objects: objects) }

    /// ``summary`` of any background and objects (a scene read from an image may put two objects in one cell).
    public static func summary(background: BackgroundColor, objects: [SceneObject]) -> String {
        let list = objects.map { "\($0.size.rawValue) \($0.color.word) \($0.shape.word) (\($0.cell.name))" }
        return (list.isEmpty ? "nothing" : list.joined(separator: ", ")) + " on \(background.word)"
    }

    private enum CodingKeys: String, CodingKey { case background, objects }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            background: c.decode(BackgroundColor.self, forKey: .background),
            objects: c.decode([SceneObject].self, forKey: .objects))
    }
}

/// Errors from building or describing ShapesWorld scenes.
public enum ShapesWorldError: Error, Equatable, CustomStringConvertible {
    /// Two objects were placed in the same cell.
    case overlappingObjects(String)
    /// An image tensor did not have shape [3, H, W] with H == W ≥ 12.
    case badImageShape([Int])
    /// A caption or prompt could not be read back into a scene.
    case unparsableText(String, reason: String)

    public var description: String {
        switch self {
        case .overlappingObjects(let cell): return "ShapesWorld: two objects in the \(cell) cell"
        case .badImageShape(let s): return "ShapesWorld: expected an image of shape [3, N, N] with N ≥ 12, got \(s)"
        case .unparsableText(let t, let reason): return "ShapesWorld: cannot read \"\(t)\": \(reason)"
        }
    }
}
