import Foundation
import ReverieCore
import ReverieData
import ReverieIO

/// A JSONL manifest as a training source (`ReverieData.Manifest`: caption, text_to_image, edit with an optional
/// result, interleaved; image paths relative to the manifest). Each stage reads the records it can use — image–text
/// pairs (captions, and text_to_image read the other way), every image named, edit pairs, or every record — in an
/// order shuffled afresh each epoch from the source's seed, so item `index` is a pure function of it.
public struct ManifestData: TrainingData {
    /// The manifest file.
    public let url: URL
    /// Its good records (every image decodes), in file order.
    public let records: [DataRecord]
    /// The lines skipped under `skip_bad`, as `file:line: reason`.
    public let skipped: [String]
    public let seed: UInt64
    /// Decodes files at the canvas, ahead of the step that needs them (`prefetch`).
    let loader: PrefetchingImages
    let pairs: [(image: ImageRef, text: String)]
    let allImages: [ImageRef]
    let imageSet: Set<ImageRef>
    let edits: [(source: ImageRef, target: ImageRef)]
    let orders = EpochOrders()

    public init(
        url: URL, records: [DataRecord], skipped: [String] = [], canvas: Int, fit: ImagePreprocessing.Fit,
        seed: UInt64
    ) {
        (self.url, self.records, self.skipped, self.seed) = (url, records, skipped, seed)
        loader = PrefetchingImages(
            FileImageLoader(preprocessing: ImagePreprocessing(size: canvas, fit: fit, filter: .bicubic)))
        var pairs: [(ImageRef, String)] = [], images: [ImageRef] = [], edits: [(ImageRef, ImageRef)] = []
        for record in records {
            switch record {
            case let .caption(image, text), let .textToImage(text, image): pairs.append((image, text))
            case let .edit(source, _, target, _): edits.append((source, target))
            case .interleaved: break
            }
            images += record.images
        }
        imageSet = Set(images)
        (self.pairs, allImages, self.edits) = (
            pairs.map { (image: $0.0, text: $0.1) }, images,
            edits.map { (source: $0.0, target: $0.1) }
        )
    }

    public var name: String { url.path }
    public var hasSceneLabels: Bool { false }

    public func has(_ use: DataUse) -> Bool {
        switch use {
        case .imageText: return !pairs.isEmpty
        case .image: return !allImages.isEmpty
        case .editPair: return !edits.isEmpty
        case .record: return !records.isEmpty
        }
    }
    public var images: any ImageLoader { loader }
    public func prefetch(_ images: [ImageRef]) { loader.warm(images) }
    public func holds(_ image: ImageRef) -> Bool { imageSet.contains(image) }

    /// How many items of each use the manifest holds (what a stage can train on).
    public var counts: (imageText: Int, images: Int, editPairs: Int, records: Int) {
        (pairs.count, allImages.count, edits.count, records.count)
    }

    /// Position `index` of a stream of `count` items, shuffled per epoch (`stream` tells the uses apart).
    func position(_ index: Int, count: Int, stream: UInt64) throws -> Int {
        guard count > 0 else {
            throw DatasetError.badConfiguration("\(name) has no records of the kind this stage reads")
        }
        return orders.order(seed: seed ^ stream, epoch: index / count, count: count)[index % count]
    }

    public func imageText(at index: Int) throws -> (image: ImageRef, text: String) {
        pairs[try position(index, count: pairs.count, stream: 1)]
    }

    public func image(at index: Int) throws -> ImageRef {
        allImages[try position(index, count: allImages.count, stream: 2)]
    }

    public func editPair(at index: Int) throws -> (source: ImageRef, target: ImageRef) {
        edits[try position(index, count: edits.count, stream: 3)]
    }

    public func record(at index: Int, describeEdits: Bool) throws -> DataRecord {
        records[try position(index, count: records.count, stream: 4)]
    }

    /// `{manifest: {path: data/train.jsonl, fit: crop, skip_bad: false, seed: 1}}` (or `{manifest: PATH}` with the
    /// defaults) in `data.sources`, or
    /// `data.manifest: PATH` for one manifest. A relative path is relative to the recipe file (to the working
    /// directory for a `--set` value).
    public struct Config: DataSourceConfig {
        public static let kind = "manifest"
        public var path = ""
        /// `crop` (shorter side to the canvas, then the central square) or `stretch`.
        public var fit = Fit.crop
        /// Skip and count bad lines instead of stopping at the first.
        public var skipBad = false
        public var seed: UInt64 = 1

        public enum Fit: String, ConfigurationChoice {
            case crop, stretch
        }

        enum CodingKeys: String, CodingKey {
            case path, fit
            case skipBad = "skip_bad"
            case seed
        }

        public init() {}

        public init(path: String) { self.path = path }

        public init(from decoder: Decoder) throws {
            if let single = try? decoder.singleValueContainer().decode(String.self) {  // `{manifest: PATH}`
                path = single
            } else {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                try c.update(&path, .path)
                try c.update(&fit, .fit)
                try c.update(&skipBad, .skipBad)
                try c.update(&seed, .seed)
            }
            if let base = decoder.userInfo[.recipeDirectory] as? URL, !path.isEmpty, !path.hasPrefix("/") {
                path = base.appendingPathComponent(path).path
            }
        }

        public func validate() throws { try require(!path.isEmpty, "path", "names no manifest file") }

        /// Reads the manifest and checks that every image it names decodes, before any training: a bad line or
        /// image is an error naming the manifest's file and line, or, with `skip_bad`, skipped and listed.
        public func make(canvas: Int) throws -> any TrainingData {
            let url = URL(fileURLWithPath: path)
            let manifest = try Manifest(contentsOf: url, skipBad: skipBad)
            var records: [DataRecord] = [], skipped = manifest.skipped.map { "\(path):\($0.line): \($0.reason)" }
            for (record, line) in zip(manifest.records, manifest.lines) {
                if let bad = record.images.lazy.compactMap({ ImageCheck.shared.problem($0) }).first {
                    guard skipBad else { throw DatasetError.badLine(file: path, line: line, reason: bad) }
                    skipped.append("\(path):\(line): \(bad)")
                } else {
                    records.append(record)
                }
            }
            return ManifestData(
                url: url, records: records, skipped: skipped, canvas: canvas,
                fit: fit == .crop ? .shorterSideThenCenterCrop : .stretch, seed: seed)
        }
    }
}

/// Whether image files decode, remembered per file (by size and modification time) for the process, so a
/// manifest checked once is not decoded again when the stage is built.
final class ImageCheck: @unchecked Sendable {
    static let shared = ImageCheck()
    private let lock = NSLock()
    private var known: [String: (stamp: [Double], problem: String?)] = [:]

    /// Why `ref` cannot be read (nil when it decodes).
    func problem(_ ref: ImageRef) -> String? {
        guard case let .file(url) = ref else { return nil }
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        let stamp = [
            (attributes?[.size] as? NSNumber)?.doubleValue ?? -1,
            (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1,
        ]
        lock.lock()
        if let hit = known[url.path], hit.stamp == stamp {
            lock.unlock()
            return hit.problem
        }
        lock.unlock()
        var problem: String?
        do { _ = try Image(contentsOf: url) } catch { problem = "\(error)" }
        lock.lock()
        known[url.path] = (stamp, problem)
        lock.unlock()
        return problem
    }
}

/// Per-epoch orders, the latest one kept (a stage reads its stream in order, so one epoch at a time).
final class EpochOrders: @unchecked Sendable {
    private let lock = NSLock()
    private var cached: (key: [UInt64], order: [Int])?

    /// A Fisher–Yates permutation of 0..<count seeded by (seed, epoch).
    func order(seed: UInt64, epoch: Int, count: Int) -> [Int] {
        let key = [seed, UInt64(epoch), UInt64(count)]
        lock.lock()
        defer { lock.unlock() }
        if let cached, cached.key == key { return cached.order }
        var g = RNG(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(epoch))
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(g.next() % UInt64(i + 1)))
        }
        cached = (key, order)
        return order
    }
}
