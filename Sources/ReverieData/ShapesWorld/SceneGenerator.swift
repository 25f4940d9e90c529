import ReverieCore

/// Draws random scenes: a background and 1–2 objects in distinct cells, each attribute uniform.
public enum SceneGenerator {
    /// A random object in `cell`.
    public static func object(in cell: GridCell, rng: inout RNG) -> SceneObject {
        SceneObject(
            shape: Phrases.pick(ShapeKind.allCases, &rng), color: Phrases.pick(ObjectColor.allCases, &rng),
            size: Phrases.pick(ObjectSize.allCases, &rng), cell: cell)
    }

    /// A random scene with `count` objects (clamped to 0...9) in distinct random cells.
    public static func scene(objectCount count: Int, rng: inout RNG) -> Scene {
        let background = Phrases.pick(BackgroundColor.allCases, &rng)
        var cells = GridCell.all
        var objects: [SceneObject] = []
        for _ in 0..<min(max(count, 0), 9) {
            let i = Int(rng.next() % UInt64(cells.count))
            objects.append(object(in: cells.remove(at: i), rng: &rng))
        }
        return Scene(background: background, distinctCells: objects)
    }

    /// A random scene with one or two objects, equally likely.
    public static func scene(rng: inout RNG) -> Scene {
        scene(objectCount: 1 + Int(rng.next() & 1), rng: &rng)
    }
}
