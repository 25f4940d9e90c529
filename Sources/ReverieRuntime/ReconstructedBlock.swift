import Foundation
import ReverieData

/// One batch of an evaluation's reconstructions: its scores, and its first reconstructions while the sample sheet
/// still wants them.
public struct ReconstructedBlock<Scores: Codable>: Codable {
    /// How many reconstructions a sample sheet shows.
    public static var shown: Int { 8 }

    public let scores: Scores
    public let shown: [PlanarImage]

    /// `score` of each batch of `0..<count` (`batch` items at a time), in order; under `share` the batches are split
    /// among the ranks (each batch runs whole on one rank, so it draws what it draws in one process).
    public static func run(
        count: Int, batch: Int, share: ItemShare,
        _ score: (Range<Int>) throws -> (Scores, [PlanarImage])
    ) throws -> [ReconstructedBlock] {
        let batch = Swift.max(batch, 1)
        return try share.results((Swift.max(count, 0) + batch - 1) / batch, concurrent: false) { b in
            let range = (b * batch)..<Swift.min((b + 1) * batch, count)
            let (scores, out) = try score(range)
            return ReconstructedBlock(scores: scores, shown: Array(out.prefix(Swift.max(0, shown - range.lowerBound))))
        }
    }
}
