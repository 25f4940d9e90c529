import ReverieCore
import ReverieData
import ReverieLanguage
import XCTest

@testable import ReverieMultimodal

/// ReverieData's `ExampleBuilder` (byte-level `ByteTextEncoder`, ShapesWorld scenes) feeds the model directly.
final class DataIntegrationTests: XCTestCase {
    func testExampleBuilderSequencesOfEveryKind() throws {
        let encoder = ByteTextEncoder()
        let builder = ExampleBuilder(encoder: encoder, images: SceneImageLoader())
        let world = ShapesWorld(seed: 5)
        let caption = world.caption(at: 0), t2i = world.textToImage(at: 1), edit = world.edit(at: 2)
        let interleaved = world.interleaved(at: 3)
        let records: [DataRecord] = [
            .caption(image: .scene(caption.scene), text: caption.text),
            .textToImage(text: t2i.text, image: .scene(t2i.scene)),
            .edit(source: .scene(edit.source), instruction: edit.instruction, target: .scene(edit.target)),
            .interleaved(
                interleaved.segments.map {
                    switch $0 {
                    case .text(let t): return .text(t)
                    case .image(let s): return .image(.scene(s))
                    }
                }),
        ]
        var rng = RNG(seed: 3)
        let base = try makeTinyModel()
        let llm = try LanguageModel(
            config: LlamaConfig(
                vocabSize: encoder.vocabularySize, hiddenSize: 48, intermediateSize: 96,
                numHiddenLayers: 1, numAttentionHeads: 4, maxPositionEmbeddings: 512),
            rng: &rng)
        let config = MultimodalConfig(
            imageTokenId: encoder.imageToken, imageBeginTokenId: encoder.imageBeginToken,
            numQueries: 4)
        let model = try MultimodalModel(
            config: config, visionEncoder: base.visionEncoder,
            projector: base.projector, llm: llm, rng: &rng)
        let examples = try records.map { MultimodalExample(try builder.build($0)) }
        let losses = try model.losses(examples)
        let images = examples.map(\.targetImages.count).reduce(0, +)
        XCTAssertEqual(losses.outputImages, images)
        XCTAssertGreaterThanOrEqual(images, 3)
        XCTAssertTrue(try losses.crossEntropy.item().isFinite)
        XCTAssertGreaterThan(try losses.regression.item(), 0)
    }
}
