import ReverieCore
import ReverieData

/// Several sources mixed by weight: item `index` of a use comes from the source a generator seeded with the index
/// picks among those that have the use, at the same index there (every source is a pure function of the index, so
/// the mixture is one too). A caption manifest and an edit manifest can thus feed one run: image–text items come
/// from the first, edit pairs from the second, records from both by weight.
public struct SourceMixture: TrainingData {
    public let sources: [(data: any TrainingData, weight: Double)]
    let canvas: Int
    /// The sources that have each use, with their weights.
    let eligible: [DataUse: [(data: any TrainingData, weight: Double)]]

    public init(_ sources: [(any TrainingData, Double)], canvas: Int) {
        let all = sources.map { (data: $0.0, weight: $0.1) }
        (self.sources, self.canvas) = (all, canvas)
        eligible = Dictionary(
            uniqueKeysWithValues: DataUse.allCases.map { use in (use, all.filter { $0.data.has(use) }) })
    }

    public var name: String { sources.map(\.data.name).joined(separator: " + ") }
    public var hasSceneLabels: Bool { sources.allSatisfy(\.data.hasSceneLabels) }
    public func has(_ use: DataUse) -> Bool { !(eligible[use] ?? []).isEmpty }
    public var skipped: [String] { sources.flatMap(\.data.skipped) }
    public func holds(_ image: ImageRef) -> Bool { sources.contains { $0.data.holds(image) } }

    /// Each source warms the images it holds.
    public func prefetch(_ images: [ImageRef]) {
        for s in sources {
            let own = images.filter(s.data.holds)
            if !own.isEmpty { s.data.prefetch(own) }
        }
    }

    public func patchLabels(_ image: ImageRef, _ attribute: PatchAttribute, grid: Int) -> [Int]? {
        sources.lazy.compactMap { $0.data.patchLabels(image, attribute, grid: grid) }.first
    }

    /// Scenes rendered at the canvas; a file by the loader of the source that holds it (its fit, its prefetched
    /// images).
    public var images: any ImageLoader {
        MixtureImages(rasterizer: Rasterizer(canvas: canvas), files: sources.map(\.data).filter { !$0.hasSceneLabels })
    }

    func source(_ index: Int, _ use: DataUse) throws -> any TrainingData {
        guard let candidates = eligible[use], let last = candidates.last else {
            throw DatasetError.badConfiguration("no source of \(name) has \(use.rawValue)")
        }
        var g = RNG(seed: 0x9E37_79B9_7F4A_7C15 ^ UInt64(index))
        var rest = Double(g.uniform()) * candidates.reduce(0) { $0 + $1.weight }
        for s in candidates {
            if rest < s.weight { return s.data }
            rest -= s.weight
        }
        return last.data
    }

    public func imageText(at index: Int) throws -> (image: ImageRef, text: String) {
        try source(index, .imageText).imageText(at: index)
    }

    public func image(at index: Int) throws -> ImageRef { try source(index, .image).image(at: index) }

    public func editPair(at index: Int) throws -> (source: ImageRef, target: ImageRef) {
        try source(index, .editPair).editPair(at: index)
    }

    public func record(at index: Int, describeEdits: Bool) throws -> DataRecord {
        try source(index, .record).record(at: index, describeEdits: describeEdits)
    }
}

/// The images of a mixture: scenes rendered, files decoded by the source that holds them.
struct MixtureImages: ImageLoader {
    let rasterizer: Rasterizer
    let files: [any TrainingData]

    func load(_ ref: ImageRef) throws -> Tensor {
        guard case .file = ref else { return try SceneImageLoader(rasterizer: rasterizer).load(ref) }
        guard let owner = files.first(where: { $0.holds(ref) }) ?? files.first else {
            return try SceneImageLoader(rasterizer: rasterizer).load(ref)  // names the file it cannot read
        }
        return try owner.images.load(ref)
    }
}
