import ReverieCore

/// The words and phrase variants ShapesWorld writes, and helpers to pick among them with an ``RNG``.
///
/// Every variant here is one the ``CaptionParser`` reads back, so the texts stay unambiguous.
enum Phrases {
    /// Words for each size; the first is canonical.
    static let sizeWords: [ObjectSize: [String]] = [.small: ["small", "little"], .large: ["large", "big"]]

    /// The size a word names, if any.
    static func size(of word: String) -> ObjectSize? {
        switch word {
        case "small", "little", "tiny": return .small
        case "large", "big": return .large
        default: return nil
        }
    }

    /// "small red circle", with a randomly chosen size word.
    static func object(_ o: SceneObject, rng: inout RNG) -> String {
        let words = sizeWords[o.size] ?? [o.size.rawValue]
        return "\(pick(words, &rng)) \(o.color.word) \(o.shape.word)"
    }

    /// A location phrase: "in the top left", "at the top", "on the left", "in the center", …
    static func location(_ cell: GridCell, rng: inout RNG) -> String {
        let name = cell.name
        switch (cell.row == 1, cell.column == 1) {
        case (true, true): return pick(["in the center", "in the middle"], &rng)
        case (true, false): return "on the \(name)"
        case (false, true): return "at the \(name)"
        case (false, false): return pick(["in the \(name)", "at the \(name)"], &rng)
        }
    }

    /// A destination phrase for moves: "to the top left", "to the center".
    static func destination(_ cell: GridCell, rng: inout RNG) -> String {
        cell.row == 1 && cell.column == 1 ? pick(["to the center", "to the middle"], &rng) : "to the \(cell.name)"
    }

    /// The shortest description that singles `o` out in `scene`: "the red circle", "the small red circle", or
    /// "the red circle in the top left".
    static func reference(to o: SceneObject, in scene: Scene, rng: inout RNG) -> String {
        let others = scene.objects.filter { $0.cell != o.cell }
        if !others.contains(where: { $0.color == o.color && $0.shape == o.shape }) {
            return "the \(o.color.word) \(o.shape.word)"
        }
        if !others.contains(where: { $0.color == o.color && $0.shape == o.shape && $0.size == o.size }) {
            return "the \(o.size.rawValue) \(o.color.word) \(o.shape.word)"
        }
        return "the \(o.color.word) \(o.shape.word) \(location(o.cell, rng: &rng))"
    }

    /// A uniformly chosen element of a non-empty array.
    static func pick<T>(_ items: [T], _ rng: inout RNG) -> T {
        items[Int(rng.next() % UInt64(items.count))]
    }
}
