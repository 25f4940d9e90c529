import Foundation
import ReverieCore
import ReverieData
import ReverieIO

/// Pixels and sample sheets for ShapesWorld stages.
enum ShapesBatch {
    /// images → [B, 3, N, N] in [0, 1]
    static func pixels(_ images: [PlanarImage]) throws -> Tensor {
        try concat(images.map { try $0.tensor().unsqueeze(0) }, axis: 0)
    }

    /// The rendered scenes at `indices` of `world` → [B, 3, N, N]
    static func scenes(_ world: ShapesWorld, _ indices: Range<Int>) throws -> Tensor {
        try pixels(indices.map { world.render(world.scene(at: $0)) })
    }

    /// A model's output in [-1, 1] → images in [0, 1] (clamped), one per batch item.
    static func images(fromSigned x: Tensor) throws -> [PlanarImage] {
        let unit = x.toArray().map { Swift.min(Swift.max(($0 + 1) * 0.5, 0), 1) }
        return try PlanarImage.images(fromBatch: Tensor(shape: x.shape, data: unit))
    }

    /// Writes rows of images (each row one list) as a PNG sheet.
    static func writeSheet(_ rows: [[PlanarImage]], to url: URL) throws {
        let columns = rows.map(\.count).max() ?? 1
        var cells: [Image] = []
        for row in rows {
            for i in 0..<columns {
                let t = i < row.count ? row[i].tensor() : Tensor(zeros: [3, row.first?.size ?? 64, row.first?.size ?? 64])
                cells.append(try Image(tensor: t))
            }
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try ImageGrid.write(cells, columns: columns, to: url)
    }
}
