import Foundation

/// A count of correct answers out of a total.
public struct Tally: Sendable, Equatable, Codable {
    public var correct: Int = 0
    public var total: Int = 0

    public init(correct: Int = 0, total: Int = 0) {
        self.correct = correct
        self.total = total
    }

    /// `correct / total`, or 1 when nothing was counted.
    public var accuracy: Double { total == 0 ? 1 : Double(correct) / Double(total) }

    /// Counts one answer.
    public mutating func record(_ ok: Bool) {
        total += 1
        if ok { correct += 1 }
    }

    public static func + (a: Tally, b: Tally) -> Tally {
        Tally(correct: a.correct + b.correct, total: a.total + b.total)
    }
}

/// Per-attribute agreement between what an image shows and the scene it should show.
///
/// Shape, colour, size and position are counted per object of the expected scene (an object the image lacks
/// gets all four wrong); background and object count per image; `exact` per image (everything right, nothing
/// extra).
public struct AttributeScores: Sendable, Equatable, Codable {
    public var shape = Tally()
    public var color = Tally()
    public var size = Tally()
    public var position = Tally()
    public var background = Tally()
    public var count = Tally()
    public var exact = Tally()
    /// Shape agreement split by the expected object's size and shape, keyed "small square", "large circle", …:
    /// where shape errors come from.
    public var shapeByKind: [String: Tally] = [:]

    public init() {}

    /// All attribute answers pooled: the text-to-image / reconstruction attribute accuracy.
    public var attributeAccuracy: Double { (shape + color + size + position + background + count).accuracy }

    /// The attributes by name, for reports and JSON.
    public var byName: [(String, Tally)] {
        [
            ("shape", shape), ("color", color), ("size", size), ("position", position), ("background", background),
            ("count", count), ("exact", exact),
        ]
    }

    /// Adds another set of counts.
    public static func + (a: AttributeScores, b: AttributeScores) -> AttributeScores {
        var s = a
        s.shape = a.shape + b.shape
        s.color = a.color + b.color
        s.size = a.size + b.size
        s.position = a.position + b.position
        s.background = a.background + b.background
        s.count = a.count + b.count
        s.exact = a.exact + b.exact
        s.shapeByKind = a.shapeByKind.merging(b.shapeByKind, uniquingKeysWith: +)
        return s
    }

    /// One line per attribute: "shape 1998/2000 (99.90 %)".
    public var report: String {
        byName.map { name, t in
            "\(name) \(t.correct)/\(t.total) (\(String(format: "%.2f", 100 * t.accuracy)) %)"
        }.joined(separator: "\n")
    }
}
