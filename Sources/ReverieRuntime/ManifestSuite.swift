import Foundation
import ReverieCore
import ReverieData
import ReverieIO

/// Scores a model on any manifest, without scene labels: captions against their reference texts (exact match, token
/// F1, corpus BLEU-4), text-to-image drawings and edits against their reference images (PSNR, SSIM; edits also
/// against their source, so an edit that changed nothing shows), and reconstructions of the manifest's images.
/// Items run concurrently and are added up in order, so the report does not depend on the thread count; under
/// mpirun (`share`) the ranks split the items and exchange their results, so it does not depend on the rank count
/// either.
public struct ManifestSuite {
    public let url: URL
    public let records: [DataRecord]
    /// Items per capability at most (nil: every record of the kind).
    public let count: Int?

    /// The manifest at `url` (checked as training checks it: every line, every image file present).
    public init(url: URL, count: Int? = nil) throws {
        self.url = url
        records = try Manifest(contentsOf: url).records
        self.count = count
    }

    /// The capabilities a manifest suite scores.
    public static let capabilities: Set<String> = ["caption", "generate", "edit", "reconstruct"]

    /// The scores of `runner`'s model; with `scorer` (the model's own siglip towers), also whether each drawn image
    /// picks its own prompt among the manifest's others (`text_to_image_retrieval`). Every rank of `share` returns
    /// the scores of all items.
    public func run(
        _ runner: ModelRunner, capabilities: Set<String> = capabilities, scorer: TextImageScorer? = nil,
        share: ItemShare = .alone
    ) throws -> [(String, Double)] {
        let loader = FileImageLoader(
            preprocessing: ImagePreprocessing(size: runner.imageSize, fit: .shorterSideThenCenterCrop))
        func image(_ ref: ImageRef) throws -> PlanarImage { try PlanarImage(tensor: loader.load(ref)) }
        func limit<T>(_ items: [T]) -> [T] { count.map { Array(items.prefix($0)) } ?? items }
        var scores: [(String, Double)] = []

        let captions = limit(
            records.compactMap { r -> (ImageRef, String)? in
                if case let .caption(i, t) = r { return (i, t) } else { return nil }
            })
        if capabilities.contains("caption"), !captions.isEmpty {
            let written = try share.results(captions.count) {
                try runner.caption(image(captions[$0].0))
            }
            let references = captions.map(\.1)
            scores += [
                ("caption_exact", mean(zip(written, references).map { TextMetrics.exactMatch($0, $1) ? 1 : 0 })),
                ("caption_f1", mean(zip(written, references).map(TextMetrics.tokenF1))),
                ("caption_bleu4", TextMetrics.bleu4(hypotheses: written, references: references)),
            ]
        }
        let prompts = limit(
            records.compactMap { r -> (String, ImageRef)? in
                if case let .textToImage(t, i) = r { return (t, i) } else { return nil }
            })
        if capabilities.contains("generate"), !prompts.isEmpty {
            // The drawings travel between ranks only when the retrieval score needs all of them.
            let results = try share.results(prompts.count) { k in
                let drawn = try runner.generate(prompts[k].0)
                return Drawn(comparison: try Self.compare(drawn, image(prompts[k].1)), image: scorer.map { _ in drawn })
            }
            let pairs = results.map(\.comparison)
            scores += [
                ("text_to_image_psnr", mean(pairs.map(\.psnr))), ("text_to_image_ssim", mean(pairs.map(\.ssim))),
            ]
            if let scorer {
                scores.append(
                    (
                        "text_to_image_retrieval",
                        try scorer.retrievalAccuracy(images: results.compactMap(\.image), texts: prompts.map(\.0))
                    ))
            }
        }
        let edits = limit(
            records.compactMap { r -> (ImageRef, String, ImageRef)? in
                if case let .edit(s, i, t, _) = r { return (s, i, t) } else { return nil }
            })
        if capabilities.contains("edit"), !edits.isEmpty {
            let results = try share.results(edits.count) { k in
                let source = try image(edits[k].0)
                let drawn = try runner.edit(source, edits[k].1)
                return [try Self.compare(drawn, image(edits[k].2)), try Self.compare(drawn, source)]
            }
            scores += [
                ("edit_psnr", mean(results.map(\.[0].psnr))), ("edit_ssim", mean(results.map(\.[0].ssim))),
                ("edit_psnr_to_source", mean(results.map(\.[1].psnr))),
                ("edit_ssim_to_source", mean(results.map(\.[1].ssim))),
            ]
        }
        var seen = Set<ImageRef>()
        let images = limit(records.flatMap(\.images).filter { seen.insert($0).inserted })
        if capabilities.contains("reconstruct"), !images.isEmpty {
            let pairs = try share.results(images.count) { k in
                let original = try image(images[k])
                return try Self.compare(runner.reconstruct(original), original)
            }
            scores += [
                ("reconstruction_psnr", mean(pairs.map(\.psnr))), ("reconstruction_ssim", mean(pairs.map(\.ssim))),
            ]
        }
        return scores
    }

    /// PSNR (capped at 100 dB, so identical images average finitely) and SSIM of `drawn` against `reference`.
    static func compare(_ drawn: PlanarImage, _ reference: PlanarImage) throws -> Comparison {
        let (a, b) = (drawn.tensor(), reference.tensor())
        return Comparison(psnr: min(try ImageMetrics.psnr(a, b), 100), ssim: try ImageMetrics.ssim(a, b))
    }

    /// One image set beside its reference.
    struct Comparison: Codable {
        let psnr: Double
        let ssim: Double
    }

    /// A text-to-image item's comparison, and its drawing when the retrieval score needs it.
    struct Drawn: Codable {
        let comparison: Comparison
        let image: PlanarImage?
    }

    func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
}
