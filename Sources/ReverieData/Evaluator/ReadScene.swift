/// What the ``SceneReader`` sees in an image. Unlike ``Scene`` it may hold two objects in one cell (a model can
/// draw that), and it keeps the measurements behind each label.
public struct ReadScene: Sendable, Equatable {
    public let background: BackgroundColor
    public let objects: [ReadObject]

    /// The objects as scene objects, sorted by cell.
    public var sceneObjects: [SceneObject] { objects.map(\.object).sorted { $0.cell < $1.cell } }

    /// Whether this is exactly `scene`: same background, the same objects and nothing extra.
    public func matches(_ scene: Scene) -> Bool {
        background == scene.background && sceneObjects == scene.objects
    }

    /// The scene, or nil if two objects fall in one cell.
    public var scene: Scene? { try? Scene(background: background, objects: sceneObjects) }
}

/// One object found in an image, with the measurements its attributes were read from.
public struct ReadObject: Sendable, Equatable {
    public let object: SceneObject
    /// The median colour of the object's interior.
    public let meanColor: RGB
    /// Coverage-weighted area in pixels.
    public let area: Float
    /// Coverage-weighted width and height in pixels.
    public let width: Float
    public let height: Float
    /// Coverage-weighted centroid in pixels.
    public let centroidX: Float
    public let centroidY: Float

    /// Area over bounding-box area: about 1 for squares, π/4 for circles, 1/2 for triangles.
    public var fillRatio: Float { area / max(width * height, 1e-6) }
}
