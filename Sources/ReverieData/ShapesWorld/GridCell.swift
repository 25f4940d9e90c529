/// One cell of the 3×3 grid of object positions, row-major from the top left.
public struct GridCell: Hashable, Comparable, Codable, Sendable {
    /// 0 = top, 1 = middle, 2 = bottom.
    public let row: Int
    /// 0 = left, 1 = center, 2 = right.
    public let column: Int

    /// Returns nil unless both coordinates are in 0...2.
    public init?(row: Int, column: Int) {
        guard (0...2).contains(row), (0...2).contains(column) else { return nil }
        self.row = row
        self.column = column
    }

    /// The cell with row-major index `index` in 0..<9 (clamped).
    public init(index: Int) {
        let i = min(max(index, 0), 8)
        row = i / 3
        column = i % 3
    }

    /// Row-major index in 0..<9.
    public var index: Int { row * 3 + column }

    /// All nine cells in row-major order.
    public static let all: [GridCell] = (0..<9).map { GridCell(index: $0) }

    /// The canonical position words: "top left", "top", "center", "bottom right", …
    public var name: String {
        let vertical = ["top", "", "bottom"][row]
        let horizontal = ["left", "", "right"][column]
        switch (vertical.isEmpty, horizontal.isEmpty) {
        case (true, true): return "center"
        case (true, false): return horizontal
        case (false, true): return vertical
        case (false, false): return vertical + " " + horizontal
        }
    }

    /// The centre of the cell in pixels on a canvas of `size` pixels.
    public func center(canvas size: Int) -> (x: Double, y: Double) {
        let cell = Double(size) / 3
        return ((Double(column) + 0.5) * cell, (Double(row) + 0.5) * cell)
    }

    public static func < (a: GridCell, b: GridCell) -> Bool { a.index < b.index }

    /// Codable as the row-major index, so manifests stay short.
    public init(from decoder: Decoder) throws {
        let i = try decoder.singleValueContainer().decode(Int.self)
        guard (0..<9).contains(i) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "grid cell index \(i) is not in 0..<9"))
        }
        self.init(index: i)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(index)
    }
}
