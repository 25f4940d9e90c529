/// Applies an edit instruction, as ``EditGenerator`` writes them, to a scene.
///
/// Verbs: add / draw / put (a new "<size> <colour> <shape> <position>"), remove / delete / take away, move /
/// shift ("… to the <position>"), make … <colour> / paint … <colour> / change the color of … to <colour>,
/// make … bigger / larger / smaller, enlarge / shrink, turn … into / make … a / replace … with a <shape>.
/// The object is named as "the [size] <colour> <shape> [position]" and must match exactly one object.
public enum EditParser {
    /// The scene after applying `instruction` to `source`. Throws ``ShapesWorldError/unparsableText(_:reason:)``
    /// when the instruction is not understood, names no object or several, or would put two objects in a cell.
    public static func apply(_ instruction: String, to source: Scene) throws -> Scene {
        let t = TextTokens(instruction), w = t.words
        func fail(_ reason: String) -> ShapesWorldError { .unparsableText(instruction, reason: reason) }
        guard let verb = w.first else { throw fail("empty instruction") }
        var objects = source.objects

        if ["add", "draw", "put"].contains(verb), let s = w.firstIndex(where: { Phrases.size(of: $0) != nil }) {
            guard s + 2 < w.count, let color = TextTokens.color(w[s + 1]), let shape = TextTokens.shape(w[s + 2]),
                let cell = TextTokens.cell(from: t.positionWords(from: s + 3).0)
            else { throw fail("expected \"<size> <colour> <shape> <position>\" after \"\(verb)\"") }
            objects.append(SceneObject(shape: shape, color: color, size: Phrases.size(of: w[s]) ?? .small, cell: cell))
            return try scene(source.background, objects, fail)
        }

        // The object reference: "the [size] <colour> <shape> [position words]".
        guard let (index, refEnd) = try reference(in: t, source: source, fail) else {
            throw fail("no object named (expected \"the [size] <colour> <shape>\")")
        }
        let rest = Array(w[refEnd...])
        var object = objects[index]
        switch verb {
        case "remove", "delete", "take":
            objects.remove(at: index)
            return try scene(source.background, objects, fail)
        case "move", "shift":
            let destination = rest.firstIndex(of: "to").map { TextTokens(rest[$0...].joined(separator: " ")) }
            guard let cell = destination.flatMap({ TextTokens.cell(from: $0.positionWords(from: 1).0) })
            else { throw fail("no destination (expected \"to the <position>\")") }
            object.cell = cell
        case "enlarge":
            object.size = .large
        case "shrink":
            object.size = .small
        default:
            if let c = rest.lazy.compactMap(TextTokens.color).first {
                object.color = c
            } else if let s = rest.lazy.compactMap(TextTokens.shape).first {
                object.shape = s
            } else if rest.contains(where: { ["bigger", "larger", "large", "big"].contains($0) }) {
                object.size = .large
            } else if rest.contains(where: { ["smaller", "small", "little"].contains($0) }) {
                object.size = .small
            } else {
                throw fail("no new colour, shape or size after the object")
            }
        }
        objects[index] = object
        return try scene(source.background, objects, fail)
    }

    /// The index in `source.objects` of the object the instruction names, and the word index after its reference.
    static func reference(in t: TextTokens, source: Scene, _ fail: (String) -> ShapesWorldError) throws
        -> (Int, Int)?
    {
        let w = t.words
        for i in w.indices where w[i] == "the" {
            var j = i + 1
            let size = j < w.count ? Phrases.size(of: w[j]) : nil
            if size != nil { j += 1 }
            guard j + 1 < w.count, let color = TextTokens.color(w[j]), let shape = TextTokens.shape(w[j + 1]) else {
                continue
            }
            let (words, end) = t.positionWords(from: j + 2, stopAt: ["to"])
            let cell = TextTokens.cell(from: words)
            let matches = source.objects.indices.filter { k in
                let o = source.objects[k]
                return o.color == color && o.shape == shape && (size == nil || o.size == size)
                    && (cell == nil || o.cell == cell)
            }
            guard matches.count == 1 else {
                throw fail(
                    matches.isEmpty
                        ? "no \(color.word) \(shape.word) matches in the scene"
                        : "more than one \(color.word) \(shape.word) matches")
            }
            return (matches[0], max(end, j + 2))
        }
        return nil
    }

    static func scene(_ bg: BackgroundColor, _ objects: [SceneObject], _ fail: (String) -> ShapesWorldError) throws
        -> Scene
    {
        do {
            return try Scene(background: bg, objects: objects)
        } catch {
            throw fail("the edit puts two objects in one cell")
        }
    }
}
