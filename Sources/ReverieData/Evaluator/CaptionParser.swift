/// Reads a caption or text-to-image prompt back into the scene it describes.
///
/// Understands every template ``CaptionWriter`` writes, and more loosely any text where each object is
/// "<size> <colour> <shape>" followed by its position words ("in the top left", "at the bottom", "in the center")
/// and the background is a background colour word ("white", "gray", "black") anywhere.
public enum CaptionParser {
    /// The scene `text` describes. Throws ``ShapesWorldError/unparsableText(_:reason:)`` when an object lacks a
    /// colour, shape or position, the background is missing or contradictory, or two objects share a cell.
    public static func parse(_ text: String) throws -> Scene {
        let t = TextTokens(text), w = t.words
        func fail(_ reason: String) -> ShapesWorldError { .unparsableText(text, reason: reason) }
        var background: BackgroundColor?
        var objects: [SceneObject] = []
        var i = 0
        while i < w.count {
            if let bg = TextTokens.background(w[i]) {
                if let b = background, b != bg { throw fail("two backgrounds, \(b.word) and \(bg.word)") }
                background = bg
                i += 1
            } else if let size = Phrases.size(of: w[i]) {
                guard i + 2 < w.count, let color = TextTokens.color(w[i + 1]), let shape = TextTokens.shape(w[i + 2])
                else { throw fail("expected a colour and a shape after \"\(w[i])\"") }
                let (words, end) = t.positionWords(from: i + 3)
                guard let cell = TextTokens.cell(from: words) else {
                    throw fail("no position for the \(size.rawValue) \(color.word) \(shape.word)")
                }
                objects.append(SceneObject(shape: shape, color: color, size: size, cell: cell))
                i = end
            } else {
                i += 1
            }
        }
        guard let bg = background else { throw fail("no background colour") }
        do {
            return try Scene(background: bg, objects: objects)
        } catch {
            throw fail("two objects in one cell")
        }
    }
}
