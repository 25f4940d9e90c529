import Foundation
import ReverieCore
import ReverieData
import ReverieIO

/// Pixels and sample sheets of images a model reads and draws.
public enum ImageBatch {
    /// images → [B, 3, N, N] in [0, 1]
    public static func pixels(_ images: [PlanarImage]) throws -> Tensor {
        try concat(images.map { try $0.tensor().unsqueeze(0) }, axis: 0)
    }

    /// A model's output in [-1, 1] → images in [0, 1] (clamped), one per batch item.
    public static func images(fromSigned x: Tensor) throws -> [PlanarImage] {
        let unit = x.toArray().map { Swift.min(Swift.max(($0 + 1) * 0.5, 0), 1) }
        return try PlanarImage.images(fromBatch: Tensor(shape: x.shape, data: unit))
    }

    /// Writes rows of images (each row one list) as a PNG sheet.
    public static func writeSheet(_ rows: [[PlanarImage]], to url: URL) throws {
        let columns = rows.map(\.count).max() ?? 1
        var cells: [Image] = []
        for row in rows {
            let side = row.first?.size ?? 64
            for i in 0..<columns {
                cells.append(try Image(tensor: i < row.count ? row[i].tensor() : Tensor(zeros: [3, side, side])))
            }
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try ImageGrid.write(cells, columns: columns, to: url)
    }

    /// Reconstruction scores of `count` scenes of a world seeded `seed`, reconstructed `batch` at a time by
    /// `reconstruct(images, firstIndex)`; writes originals over reconstructions (8 of each) to `sheet`. Under
    /// `share` the batches are split among the ranks and the counts gathered, so every rank gets what one process
    /// gets.
    public static func reconstructionScores(
        canvas: Int, seed: UInt64, count: Int, batch: Int, sheet: URL?, share: ItemShare = .alone,
        _ reconstruct: ([PlanarImage], Int) throws -> [PlanarImage]
    ) throws
        -> [(String, Double)]
    {
        let eval = ShapesWorld(seed: seed, canvas: canvas)
        let evaluator = Evaluator()
        let blocks = try ReconstructedBlock.run(count: count, batch: batch, share: share) { range in
            let scenes = range.map { eval.scene(at: $0) }
            let out = try reconstruct(scenes.map { eval.render($0) }, range.lowerBound)
            return (zip(out, scenes).reduce(AttributeScores()) { $0 + evaluator.score($1.0, expected: $1.1) }, out)
        }
        let scores = blocks.reduce(AttributeScores()) { $0 + $1.scores }
        if let sheet {
            let originals = (0..<min(count, ReconstructedBlock<AttributeScores>.shown)).map {
                eval.render(eval.scene(at: $0))
            }
            try writeSheet([originals, blocks.flatMap(\.shown)], to: sheet)
        }
        return [("reconstruction", scores.attributeAccuracy), ("reconstruction_exact", scores.exact.accuracy)]
    }
}
