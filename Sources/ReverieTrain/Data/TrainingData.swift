import ReverieCore
import ReverieData

/// Where a stage's training items come from. Every item is a pure function of its index in the stream, so a run's
/// data position is one integer and `--resume` continues exactly. Each stage asks for what it trains on.
public protocol TrainingData: Sendable {
    /// A name for messages (`shapes`, a manifest's path).
    var name: String { get }
    /// An image and a text that describes it (the siglip stage).
    func imageText(at index: Int) throws -> (image: ImageRef, text: String)
    /// One image (the vae and decoder stages).
    func image(at index: Int) throws -> ImageRef
    /// An edit pair, the source and the target image (a decoder that takes a source latent).
    func editPair(at index: Int) throws -> (source: ImageRef, target: ImageRef)
    /// A record of any kind (the mllm stage); an edit carries a text describing its result when `describeEdits`.
    func record(at index: Int, describeEdits: Bool) throws -> DataRecord
    /// Images as tensors [3, N, N] in [0, 1] at the stage's canvas.
    var images: any ImageLoader { get }
    /// Whether its images carry ShapesWorld scene labels (`ImageRef.scene`), which only some losses read.
    var hasSceneLabels: Bool { get }
    /// Whether it has items for `use` (a manifest may hold no image–text pairs, or no edits).
    func has(_ use: DataUse) -> Bool
    /// Supervision only a labelled world can give: per cell of a grid × grid split of `image`, the label of the
    /// attribute there (0 for none); nil when the source has no labels for the image (the siglip stage's
    /// `patch_labels`/`patch_colors` and the mllm stage's `shape_probe` read it).
    func patchLabels(_ image: ImageRef, _ attribute: PatchAttribute, grid: Int) -> [Int]?
    /// What it skipped while reading (bad lines or images, with `skip_bad`), one line each.
    var skipped: [String] { get }
    /// Starts loading `images` in the background, for a step to come (a source whose images are cheap ignores it).
    func prefetch(_ images: [ImageRef])
    /// Whether `image` is one of its files (a mixture loads and prefetches a file through the source holding it).
    func holds(_ image: ImageRef) -> Bool
}

extension TrainingData {
    public func has(_ use: DataUse) -> Bool { true }
    public func patchLabels(_ image: ImageRef, _ attribute: PatchAttribute, grid: Int) -> [Int]? { nil }
    public var skipped: [String] { [] }
    public func prefetch(_ images: [ImageRef]) {}
    public func holds(_ image: ImageRef) -> Bool { false }
}

/// What a stage reads from its data.
public enum DataUse: String, Sendable, CaseIterable {
    case imageText = "image–text pairs (caption or text_to_image records)"
    case image = "images"
    case editPair = "edit pairs (edit records)"
    case record = "records"
}

/// A data source kind as a recipe names it (`data: {sources: [{shapes: {…}, weight: 1}]}`): its options and how
/// to build it. A new source is one file (a `TrainingData` and its `DataSourceConfig`) and one
/// `DataSourceRegistry` line.
public protocol DataSourceConfig: Codable, Sendable, SelfChecking {
    /// The key naming the kind in a `sources` entry (`shapes`, `manifest`).
    static var kind: String { get }
    init()
    /// The source at the recipe's `canvas` (images of canvas × canvas pixels).
    func make(canvas: Int) throws -> any TrainingData
}

/// The data source kinds by name.
public enum DataSourceRegistry {
    public struct Entry: Sendable {
        public let decode: @Sendable (Decoder) throws -> any DataSourceConfig
    }

    public static let shared = Registry<Entry>(
        family: "data source",
        [
            ShapesSource.Config.kind: entry(ShapesSource.Config.self),
            ManifestData.Config.kind: entry(ManifestData.Config.self),
        ])

    public static func entry<C: DataSourceConfig>(_ type: C.Type) -> Entry {
        Entry(decode: { try C(from: $0) })
    }

    public static func register<C: DataSourceConfig>(_ type: C.Type) { shared.register(C.kind, entry(type)) }

    public static var kinds: [String] { shared.kinds }
}
