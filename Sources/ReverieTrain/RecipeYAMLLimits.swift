/// Bounds on recipe YAML checked before and while it is parsed. Yams (libyaml) recurses once per nesting level and
/// expands aliases into whole copies, so 10 000 nested brackets overflow the stack and nine levels of nine aliases
/// ("billion laughs") make a billion values; recipes need neither.
enum RecipeYAMLLimits {
    /// Largest recipe text (recipes are a few kilobytes).
    static let maxBytes = 1 << 20
    /// Deepest nesting of flow collections (`[`, `{`).
    static let maxFlowDepth = 64
    /// Widest block indentation (spaces and `- ` markers before a line's content), about 100 levels.
    static let maxIndent = 256
    /// Most values a parsed recipe may hold once aliases are expanded.
    static let maxValues = 100_000

    /// Throws naming the file and line of the first place the text exceeds a limit.
    static func check(_ text: String, file: String) throws {
        guard text.utf8.count <= maxBytes else {
            throw RecipeError(
                file: file, line: nil, key: "",
                message: "\(text.utf8.count) bytes of YAML; a recipe may have at most \(maxBytes)")
        }
        var depth = 0, line = 1, indent = 0, atLineStart = true
        var quote: UInt8?, comment = false, previous: UInt8 = 0x20
        for byte in text.utf8 {
            if byte == 0x0A {  // newline
                // A quoted scalar may span lines: `quote` stays as it is.
                (line, indent, atLineStart, comment, previous) = (line + 1, 0, true, false, 0x20)
                continue
            }
            if atLineStart {
                if byte == 0x20 || byte == 0x09 || byte == 0x2D {  // space, tab, '-'
                    indent += 1
                    guard indent <= maxIndent else {
                        throw RecipeError(
                            file: file, line: line, key: "",
                            message: "nested more than \(maxIndent) columns deep; recipes need far less")
                    }
                    previous = byte
                    continue
                }
                atLineStart = false
            }
            defer { previous = byte }
            if comment { continue }
            if let q = quote {
                if byte == q { quote = nil }
                continue
            }
            switch byte {
            case 0x23 where previous == 0x20 || previous == 0x09: comment = true  // '#'
            case 0x22, 0x27: quote = byte
            case 0x5B, 0x7B:  // '[', '{'
                depth += 1
                guard depth <= maxFlowDepth else {
                    throw RecipeError(
                        file: file, line: line, key: "",
                        message: "brackets nested more than \(maxFlowDepth) deep; recipes need far less")
                }
            case 0x5D, 0x7D: depth = max(0, depth - 1)
            default: break
            }
        }
    }

    /// Counts one parsed value against `maxValues`.
    static func count(_ values: inout Int, file: String, line: Int?) throws {
        values += 1
        guard values <= maxValues else {
            throw RecipeError(
                file: file, line: line, key: "",
                message: "more than \(maxValues) values once its aliases are expanded (a YAML alias bomb?)")
        }
    }
}
