/// The lower-case words of a ShapesWorld text and the vocabulary the parsers understand.
struct TextTokens {
    let words: [String]

    init(_ text: String) {
        let cleaned = text.lowercased().map { $0.isLetter ? $0 : " " }
        words = String(cleaned).split(separator: " ").map(String.init)
    }

    static func color(_ w: String) -> ObjectColor? { ObjectColor(rawValue: w == "violet" ? "purple" : w) }

    static func background(_ w: String) -> BackgroundColor? { BackgroundColor(rawValue: w == "grey" ? "gray" : w) }

    static func shape(_ w: String) -> ShapeKind? {
        switch w {
        case "circles", "disc", "disk": return .circle
        case "squares": return .square
        case "triangles": return .triangle
        default: return ShapeKind(rawValue: w)
        }
    }

    static let positionWords: Set<String> = [
        "top", "upper", "bottom", "lower", "left", "right", "center", "centre",
        "middle",
    ]

    /// The cell named by position words ("top left", "bottom", "center", "middle right", …); nil if none given.
    static func cell(from words: [String]) -> GridCell? {
        guard !words.isEmpty else { return nil }
        var row = 1, column = 1
        for w in words {
            switch w {
            case "top", "upper": row = 0
            case "bottom", "lower": row = 2
            case "left": column = 0
            case "right": column = 2
            default: break
            }
        }
        return GridCell(row: row, column: column)
    }

    /// The position words starting at `i`, skipping the fillers between them ("in the top left" → [top, left]),
    /// stopping at the first word that is neither; returns them and the index after the last one.
    func positionWords(from i: Int, stopAt stops: Set<String> = []) -> ([String], Int) {
        let fillers: Set<String> = ["in", "at", "on", "the", "of", "image", "canvas", "picture", "corner", "side"]
        var found: [String] = [], j = i, end = i
        while j < words.count, !stops.contains(words[j]) {
            if Self.positionWords.contains(words[j]) {
                found.append(words[j])
                end = j + 1
            } else if !fillers.contains(words[j]) {
                break
            }
            j += 1
        }
        return (found, end)
    }
}
