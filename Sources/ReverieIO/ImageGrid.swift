import Foundation

/// Sample sheets: images laid out in a grid, for looking at a batch of generations at a glance.
public enum ImageGrid {
    /// Tiles `images` row-major into `columns` columns (rows as needed), each cell the size of the largest image,
    /// smaller images centred, `padding` pixels of `background` (RGB in [0, 1]) between and around cells. The
    /// sheet is 8-bit RGB; gray images are replicated, alpha is dropped.
    public static func make(
        _ images: [Image], columns: Int, padding: Int = 2,
        background: [Float] = [1, 1, 1]
    ) throws -> Image {
        guard !images.isEmpty, columns > 0, padding >= 0, background.count == 3 else {
            throw ImageError.invalidArgument(
                operation: "ImageGrid.make",
                detail: "\(images.count) images, \(columns) columns, padding \(padding), background \(background)")
        }
        let cellWidth = images.map(\.width).max() ?? 1
        let cellHeight = images.map(\.height).max() ?? 1
        let cols = min(columns, images.count)
        let rows = (images.count + cols - 1) / cols
        let width = cols * cellWidth + (cols + 1) * padding
        let height = rows * cellHeight + (rows + 1) * padding
        let fill = background.map { quantize($0) }
        var sheet = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            sheet[i * 3] = fill[0]
            sheet[i * 3 + 1] = fill[1]
            sheet[i * 3 + 2] = fill[2]
        }
        for (index, image) in images.enumerated() {
            let tile = image.converted(to: .rgb).bytes
            let left = padding + (index % cols) * (cellWidth + padding) + (cellWidth - image.width) / 2
            let top = padding + (index / cols) * (cellHeight + padding) + (cellHeight - image.height) / 2
            for y in 0..<image.height {
                let dst = ((top + y) * width + left) * 3
                let src = y * image.width * 3
                sheet.replaceSubrange(dst..<(dst + image.width * 3), with: tile[src..<(src + image.width * 3)])
            }
        }
        return Image(unchecked: width, height, .rgb, .uint8(sheet))
    }

    /// Builds a sheet with ``make(_:columns:padding:background:)`` and writes it as a PNG.
    public static func write(
        _ images: [Image], columns: Int, to url: URL, padding: Int = 2,
        background: [Float] = [1, 1, 1]
    ) throws {
        try make(images, columns: columns, padding: padding, background: background).writePNG(to: url)
    }
}
