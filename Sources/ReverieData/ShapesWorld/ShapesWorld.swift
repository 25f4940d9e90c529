import ReverieCore

/// The embedded, measurable world of docs/DESIGN.md §7: seeded scenes, their captions, prompts, edits and interleaved
/// records, and their renders.
///
/// Every sample is a pure function of `(seed, kind, index)`, so a data set is reproducible, can be read in any
/// order, and needs no files:
///
/// ```swift
/// let world = ShapesWorld(seed: 7)
/// let sample = world.caption(at: 0)        // sample.text == "a small red circle in the top left on a …"
/// let image = world.render(sample.scene)   // PlanarImage, 64×64
/// ```
public struct ShapesWorld: Sendable {
    /// The world every evaluation draws its items from unless told otherwise: one no committed recipe trains on.
    public static let evaluationSeed: UInt64 = 1_000_003

    public let seed: UInt64
    public let rasterizer: Rasterizer

    public init(seed: UInt64, canvas: Int = 64) {
        self.seed = seed
        rasterizer = Rasterizer(canvas: canvas)
    }

    /// Independent streams per sample kind, so adding edits to a run does not change its captions.
    enum Stream: UInt64 {
        case scene = 1
        case caption, textToImage, edit, interleaved, editChain
    }

    /// A generator for sample `index` of `stream`.
    func rng(_ stream: Stream, _ index: Int) -> RNG {
        var z = seed &* 0x9E37_79B9_7F4A_7C15 ^ (stream.rawValue &* 0xD1B5_4A32_D192_ED03)
        z ^= UInt64(bitPattern: Int64(index)) &* 0xBF58_476D_1CE4_E5B9
        return RNG(seed: z)
    }

    /// A random scene with one or two objects.
    public func scene(at index: Int) -> Scene {
        var g = rng(.scene, index)
        return SceneGenerator.scene(rng: &g)
    }

    /// A scene and a caption that describes it.
    public func caption(at index: Int) -> CaptionSample {
        var g = rng(.caption, index)
        let scene = SceneGenerator.scene(rng: &g)
        return CaptionSample(scene: scene, text: CaptionWriter.caption(scene, rng: &g))
    }

    /// A prompt and the scene it asks for.
    public func textToImage(at index: Int) -> TextToImageSample {
        var g = rng(.textToImage, index)
        let scene = SceneGenerator.scene(rng: &g)
        return TextToImageSample(text: CaptionWriter.prompt(scene, rng: &g), scene: scene)
    }

    /// An edit triple; the kinds cycle with the index so every kind is equally common.
    public func edit(at index: Int) -> EditSample { edit(at: index, kind: Self.cycledKind(index)) }

    /// Edit triple `index` made as an edit of `kind` (training data that weights the kinds; see `edit(at:)`).
    public func edit(at index: Int, kind: EditKind) -> EditSample {
        var g = rng(.edit, index)
        return EditGenerator.edit(kind, rng: &g)
    }

    /// The edit kind of item `index`: the kinds cycle with the index so every kind is equally common.
    static func cycledKind(_ index: Int) -> EditKind {
        let kinds = EditKind.allCases
        return kinds[((index % kinds.count) + kinds.count) % kinds.count]
    }

    /// `turns` edits in a row, each applied to the previous one's target (the first kind cycles with the index as in
    /// `edit(at:)`, from a stream of its own; the later kinds at random), never returning to an earlier scene:
    /// multi-turn editing, where each instruction applies to the previous output.
    public func editChain(at index: Int, turns: Int = 2) -> [EditSample] {
        var g = rng(.editChain, index)
        let kinds = EditKind.allCases
        var chain = [EditGenerator.edit(Self.cycledKind(index), rng: &g)]
        while chain.count < turns {
            // A turn that undoes the chain so far (resize back, recolour back) is drawn again: an unchanged image
            // must never count as a right answer.
            var next: EditSample
            repeat {
                let kind = kinds[Int(g.next() % UInt64(kinds.count))]
                next = EditGenerator.edit(kind, source: chain[chain.count - 1].target, rng: &g)
            } while chain.contains { $0.source == next.target }
            chain.append(next)
        }
        return chain
    }

    /// "draw X" [image], "then <edit>" [image]: a prompt, its scene, an instruction and the edited scene.
    public func interleaved(at index: Int) -> InterleavedSample {
        var g = rng(.interleaved, index)
        let edit = EditGenerator.edit(Self.cycledKind(index), rng: &g)
        let first = CaptionWriter.prompt(edit.source, rng: &g)
        let joiner = Phrases.pick(["then", "now", "next,"], &g)
        return InterleavedSample(segments: [
            .text(first), .image(edit.source),
            .text("\(joiner) \(edit.instruction)"), .image(edit.target),
        ])
    }

    /// The image of `scene`.
    public func render(_ scene: Scene) -> PlanarImage { rasterizer.render(scene) }
}
