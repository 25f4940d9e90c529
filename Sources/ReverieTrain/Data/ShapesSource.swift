import ReverieCore
import ReverieData

/// ShapesWorld as a training source: scenes rendered in memory, captions, prompts, edits and interleaved
/// sequences, each a pure function of (world seed, kind, index). Its images are scenes, so the losses that read
/// scene labels (siglip `patch_labels`, mllm `shape_probe`) can use them.
public struct ShapesSource: TrainingData {
    public let world: ShapesWorld
    /// Relative weights of the record kinds the mllm stage draws.
    public let mixture: [(String, Double)]
    /// Relative weights of the edit kinds (empty: the kinds cycle with the index, as the evaluation world's do).
    public let editKinds: [(String, Double)]
    /// Distinct items of each stream (0: unbounded): item `index` is item `index % items`, so an in-memory run can
    /// see exactly as many distinct records as a finite file source holds.
    public let items: Int

    public init(world: ShapesWorld, mixture: [(String, Double)], editKinds: [(String, Double)], items: Int = 0) {
        (self.world, self.mixture, self.editKinds, self.items) = (world, mixture, editKinds, items)
    }

    func bounded(_ index: Int) -> Int { items > 0 ? index % items : index }

    public var name: String { "shapes" }
    public var hasSceneLabels: Bool { true }
    public var images: any ImageLoader { SceneImageLoader(rasterizer: world.rasterizer) }

    /// The attribute under each cell of a rendered scene (`Scene.patchLabels`).
    public func patchLabels(_ image: ImageRef, _ attribute: PatchAttribute, grid: Int) -> [Int]? {
        guard case let .scene(scene) = image else { return nil }
        return scene.patchLabels(attribute, grid: grid, canvas: world.rasterizer.canvas)
    }

    public func imageText(at index: Int) -> (image: ImageRef, text: String) {
        let s = world.caption(at: bounded(index))
        return (.scene(s.scene), s.text)
    }

    public func image(at index: Int) -> ImageRef { .scene(world.scene(at: bounded(index))) }

    public func editPair(at index: Int) -> (source: ImageRef, target: ImageRef) {
        let e = world.edit(at: bounded(index))
        return (.scene(e.source), .scene(e.target))
    }

    /// The record at `index`: its kind drawn from the mixture by a generator seeded with the index.
    public func record(at index: Int, describeEdits: Bool) -> DataRecord {
        let i = bounded(index)
        var g = RNG(seed: world.seed &* 0x2545_F491_4F6C_DD1D ^ UInt64(i))
        switch Self.pick(mixture, u: Double(g.uniform())) ?? "caption" {
        case "text_to_image":
            let s = world.textToImage(at: i)
            return .textToImage(text: s.text, image: .scene(s.scene))
        case "edit":
            let kind = Self.pick(editKinds, u: Double(g.uniform())).flatMap(EditKind.init(rawValue:))
            let s = kind.map { world.edit(at: i, kind: $0) } ?? world.edit(at: i)
            return .edit(
                source: .scene(s.source), instruction: s.instruction, target: .scene(s.target),
                result: describeEdits ? CaptionWriter.canonicalCaption(s.target) : nil)
        case "interleaved":
            return .interleaved(
                world.interleaved(at: i).segments.map {
                    switch $0 {
                    case let .text(t): return .text(t)
                    case let .image(s): return .image(.scene(s))
                    }
                })
        default:
            let s = world.caption(at: i)
            return .caption(image: .scene(s.scene), text: s.text)
        }
    }

    /// The name whose share of the positive `weights`, laid end to end in order, holds `u` ∈ [0, 1) (nil for no
    /// weights).
    public static func pick(_ weights: [(String, Double)], u: Double) -> String? {
        var rest = u * weights.reduce(0) { $0 + max($1.1, 0) }
        for (name, w) in weights where w > 0 {
            if rest < w { return name }
            rest -= w
        }
        return weights.last { $0.1 > 0 }?.0
    }

    /// `{shapes: {world_seed: 4, mixture: {…}, edit_kinds: {…}, items: 0}}` in a `sources` list; the same keys directly under
    /// `data:` are the short form for one ShapesWorld source.
    public struct Config: DataSourceConfig, Equatable {
        public static let kind = "shapes"
        public var worldSeed: UInt64 = 1
        public var mixture = DataSpec.Mixture.default
        public var editKinds = DataSpec.Weights([])
        /// Distinct items per stream; 0 for an endless world.
        public var items = 0

        enum CodingKeys: String, CodingKey, CaseIterable {
            case worldSeed = "world_seed"
            case mixture
            case editKinds = "edit_kinds"
            case items
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            try c.update(&worldSeed, .worldSeed)
            try c.update(&mixture, .mixture)
            try c.update(&editKinds, .editKinds)
            try c.update(&items, .items)
        }

        public func validate() throws { try require(items >= 0, "items", "must be 0 (endless) or positive") }

        public func make(canvas: Int) -> any TrainingData {
            ShapesSource(
                world: ShapesWorld(seed: worldSeed, canvas: canvas), mixture: mixture.weights.pairs,
                editKinds: editKinds.pairs, items: items)
        }
    }
}
