import ReverieCore

/// Makes edit triples: a source scene, an instruction, and the target scene.
///
/// Instructions refer to an object by the shortest description that singles it out (see `Phrases.reference`),
/// so ``EditParser`` can apply them back to the source.
public enum EditGenerator {
    /// A random edit of `kind`. Adds start from one object and end with two; removes go the other way; the rest
    /// start from one or two objects.
    public static func edit(_ kind: EditKind, rng: inout RNG) -> EditSample {
        let count: Int
        switch kind {
        case .add: count = 1
        case .remove: count = 2
        default: count = 1 + Int(rng.next() & 1)
        }
        return edit(kind, source: SceneGenerator.scene(objectCount: count, rng: &rng), rng: &rng)
    }

    /// Applies a random edit of `kind` to `source`. Falls back to an add (or a remove, on a full grid) when the
    /// source has no object to edit or, for a move, no free cell.
    public static func edit(_ kind: EditKind, source: Scene, rng: inout RNG) -> EditSample {
        let free = source.freeCells
        var kind = kind
        if source.objects.isEmpty || (kind == .move && free.isEmpty) { kind = free.isEmpty ? .remove : .add }
        if kind == .add && free.isEmpty { kind = .remove }
        let bg = source.background
        var objects = source.objects
        if kind == .add { return add(to: source, cells: free, rng: &rng) }
        let index = Int(rng.next() % UInt64(objects.count))
        let old = objects[index]
        let ref = Phrases.reference(to: old, in: source, rng: &rng)
        var new = old
        let text: String
        switch kind {
        case .recolor:
            new.color = Phrases.pick(ObjectColor.allCases.filter { $0 != old.color }, &rng)
            text = Phrases.pick(
                [
                    "make \(ref) \(new.color.word)", "change the color of \(ref) to \(new.color.word)",
                    "paint \(ref) \(new.color.word)",
                ], &rng)
        case .move:
            new.cell = Phrases.pick(free, &rng)
            text = Phrases.pick(["move", "shift"], &rng) + " \(ref) \(Phrases.destination(new.cell, rng: &rng))"
        case .resize:
            new.size = old.size.other
            text =
                new.size == .large
                ? Phrases.pick(["make \(ref) bigger", "make \(ref) larger", "enlarge \(ref)"], &rng)
                : Phrases.pick(["make \(ref) smaller", "shrink \(ref)"], &rng)
        case .reshape:
            new.shape = Phrases.pick(ShapeKind.allCases.filter { $0 != old.shape }, &rng)
            text = Phrases.pick(
                [
                    "turn \(ref) into a \(new.shape.word)", "make \(ref) a \(new.shape.word)",
                    "replace \(ref) with a \(new.shape.word)",
                ], &rng)
        case .remove:
            objects.remove(at: index)
            text = Phrases.pick(["remove", "delete", "take away"], &rng) + " \(ref)"
            return EditSample(
                kind: .remove, source: source, instruction: text,
                target: Scene(background: bg, distinctCells: objects))
        case .add:
            return add(to: source, cells: free, rng: &rng)
        }
        objects[index] = new
        return EditSample(
            kind: kind, source: source, instruction: text,
            target: Scene(background: bg, distinctCells: objects))
    }

    /// Adds a random object in one of `cells` (not empty).
    static func add(to source: Scene, cells: [GridCell], rng: inout RNG) -> EditSample {
        let added = SceneGenerator.object(in: Phrases.pick(cells, &rng), rng: &rng)
        let text =
            Phrases.pick(["add", "draw", "put"], &rng)
            + " a \(Phrases.object(added, rng: &rng)) \(Phrases.location(added.cell, rng: &rng))"
        return EditSample(
            kind: .add, source: source, instruction: text,
            target: Scene(background: source.background, distinctCells: source.objects + [added]))
    }
}
