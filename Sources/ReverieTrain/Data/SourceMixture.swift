import ReverieCore
import ReverieData

/// Several sources mixed by weight: item `index` comes from the source a generator seeded with the index picks,
/// at the same index there (every source is a pure function of the index, so the mixture is one too).
public struct SourceMixture: TrainingData {
    public let sources: [(data: any TrainingData, weight: Double)]
    let canvas: Int

    public init(_ sources: [(any TrainingData, Double)], canvas: Int) {
        self.sources = sources.map { (data: $0.0, weight: $0.1) }
        self.canvas = canvas
    }

    public var name: String { sources.map(\.data.name).joined(separator: " + ") }
    public var hasSceneLabels: Bool { sources.allSatisfy(\.data.hasSceneLabels) }
    public func has(_ use: DataUse) -> Bool { sources.allSatisfy { $0.data.has(use) } }
    public var skipped: [String] { sources.flatMap(\.data.skipped) }
    public func prefetch(_ images: [ImageRef]) { for s in sources { s.data.prefetch(images) } }

    public func patchLabels(_ image: ImageRef, _ attribute: PatchAttribute, grid: Int) -> [Int]? {
        sources.lazy.compactMap { $0.data.patchLabels(image, attribute, grid: grid) }.first
    }

    /// Scenes rendered at the canvas; files by the first source that reads files.
    public var images: any ImageLoader {
        SceneImageLoader(
            rasterizer: Rasterizer(canvas: canvas), files: sources.first { !$0.data.hasSceneLabels }?.data.images)
    }

    func source(_ index: Int) -> any TrainingData {
        var g = RNG(seed: 0x9E37_79B9_7F4A_7C15 ^ UInt64(index))
        var rest = Double(g.uniform()) * sources.reduce(0) { $0 + $1.weight }
        for s in sources {
            if rest < s.weight { return s.data }
            rest -= s.weight
        }
        return sources[sources.count - 1].data
    }

    public func imageText(at index: Int) throws -> (image: ImageRef, text: String) {
        try source(index).imageText(at: index)
    }

    public func image(at index: Int) throws -> ImageRef { try source(index).image(at: index) }

    public func editPair(at index: Int) throws -> (source: ImageRef, target: ImageRef) {
        try source(index).editPair(at: index)
    }

    public func record(at index: Int, describeEdits: Bool) throws -> DataRecord {
        try source(index).record(at: index, describeEdits: describeEdits)
    }
}
