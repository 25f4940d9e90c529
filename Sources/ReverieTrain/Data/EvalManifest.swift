import Foundation
import ReverieCore
import ReverieData
import ReverieIO
import ReverieRuntime

/// A stage's evaluation on a manifest (`data.eval_manifest`) instead of ShapesWorld: its images at the canvas, its
/// image–text pairs, and reconstruction scores (PSNR, SSIM) of any reconstruct function.
struct EvalManifest {
    let url: URL
    let records: [DataRecord]
    let loader: FileImageLoader

    init(path: String, canvas: Int) throws {
        url = URL(fileURLWithPath: path)
        records = try Manifest(contentsOf: url).records
        loader = FileImageLoader(preprocessing: ImagePreprocessing(size: canvas, fit: .shorterSideThenCenterCrop))
    }

    func image(_ ref: ImageRef) throws -> PlanarImage { try PlanarImage(tensor: loader.load(ref)) }

    /// The first `count` distinct images the manifest names.
    func images(_ count: Int) throws -> [PlanarImage] {
        var seen = Set<ImageRef>()
        return try records.flatMap(\.images).filter { seen.insert($0).inserted }.prefix(count).map(image)
    }

    /// The first `count` image–text pairs (captions, and text_to_image records read the other way).
    func pairs(_ count: Int) throws -> [(image: PlanarImage, text: String)] {
        try records.compactMap { r -> (ImageRef, String)? in
            switch r {
            case let .caption(i, t), let .textToImage(t, i): return (i, t)
            default: return nil
            }
        }.prefix(count).map { (try image($0.0), $0.1) }
    }

    /// Mean PSNR and SSIM of `reconstruct` on the first `count` images, `batch` at a time (with the index of the
    /// batch's first image); writes originals over reconstructions (8 of each) to `sheet`.
    func reconstructionScores(
        count: Int, batch: Int, sheet: URL?, share: ItemShare,
        _ reconstruct: ([PlanarImage], Int) throws -> [PlanarImage]
    ) throws -> [(String, Double)] {
        let originals = try images(count)
        // Per item [PSNR, SSIM], summed in item order afterwards: the same sums under any number of ranks.
        let blocks = try ReconstructedBlock<[[Double]]>.run(count: originals.count, batch: batch, share: share) {
            let chunk = Array(originals[$0])
            let out = try reconstruct(chunk, $0.lowerBound)
            let pairs = try zip(out, chunk).map { a, b in
                [
                    min(try ImageMetrics.psnr(a.tensor(), b.tensor()), 100),
                    try ImageMetrics.ssim(a.tensor(), b.tensor()),
                ]
            }
            return (pairs, out)
        }
        let items = blocks.flatMap(\.scores)
        if let sheet {
            let shown = blocks.flatMap(\.shown)
            try ImageBatch.writeSheet([Array(originals.prefix(shown.count)), shown], to: sheet)
        }
        let n = Double(max(originals.count, 1))
        return [
            ("reconstruction_psnr", items.reduce(0) { $0 + $1[0] } / n),
            ("reconstruction_ssim", items.reduce(0) { $0 + $1[1] } / n),
        ]
    }
}
