import Foundation
import ReverieCore
import ReverieData
import ReverieIO
import ReverieRuntime
import ReverieTestSupport
import XCTest

@testable import ReverieTrain

/// `loss.shape_probe`: a probe learns the shape under each patch from the targets' conditions, and the predicted
/// conditions must read as the same shapes.
final class ShapeProbeTests: XCTestCase {
    let world = ShapesWorld(seed: 9)

    /// A record's output images, in the order the example builder lays its targets out, and a ShapesWorld source
    /// labels the scenes among them (a file has no labels).
    func testOutputImagesAndTheirLabels() {
        let caption = world.caption(at: 0), t2i = world.textToImage(at: 1), edit = world.edit(at: 2)
        XCTAssertEqual(DataRecord.caption(image: .scene(caption.scene), text: caption.text).outputImages, [])
        XCTAssertEqual(
            DataRecord.textToImage(text: t2i.text, image: .scene(t2i.scene)).outputImages, [.scene(t2i.scene)])
        XCTAssertEqual(
            DataRecord.edit(source: .scene(edit.source), instruction: edit.instruction, target: .scene(edit.target))
                .outputImages, [.scene(edit.target)])
        let file = ImageRef.file(URL(fileURLWithPath: "/tmp/a.png"))
        XCTAssertEqual(
            DataRecord.interleaved([.text("a"), .image(.scene(t2i.scene)), .text("b"), .image(file)]).outputImages,
            [.scene(t2i.scene), file])
        let source = ShapesSource(world: world, mixture: [], editKinds: [])
        XCTAssertEqual(
            source.patchLabels(.scene(t2i.scene), .shape, grid: 2), t2i.scene.patchShapeLabels(grid: 2, canvas: 64))
        XCTAssertNil(source.patchLabels(file, .shape, grid: 2))
    }

    /// The probe's own term trains the probe alone; the reading term trains the predictions alone. Images without
    /// a scene are left out of both.
    func testTermsTrainTheProbeAndThePredictionsSeparately() throws {
        var rng = RNG(seed: 3)
        let probe = try ShapeProbe(conditionDim: 6, weight: 1, rng: &rng)
        let target = Tensor.randn([2, 4, 6], rng: &rng)
        let predicted = Tensor.randn([2, 4, 6], rng: &rng, requiresGrad: true)
        let scenes = [world.scene(at: 0), world.scene(at: 1)]
        let labels = scenes.flatMap { $0.patchShapeLabels(grid: 2, canvas: 64) }
        let source = ShapesSource(world: world, mixture: [], editKinds: [])
        XCTAssertTrue(labels.contains { $0 != 0 }, "some patch shows an object")

        let (own, read) = try probe.terms(
            predicted: predicted, target: target, images: scenes.map { .scene($0) }, source: source)
        try own.backward()
        XCTAssertNotNil(probe.head.weight.grad)
        XCTAssertNil(predicted.grad)
        let expected = try crossEntropy(probe.head(target), targets: labels)
        XCTAssertEqual(try own.item(), try expected.item(), accuracy: 1e-6)
        probe.head.zeroGrad()
        try read.backward()
        XCTAssertNil(probe.head.weight.grad, "the predictions' term leaves the probe alone")
        XCTAssertNotNil(predicted.grad)

        // An image that is not a scene is ignored: the terms equal those of the other image alone.
        let file = ImageRef.file(URL(fileURLWithPath: "/tmp/a.png"))
        let (ownHalf, _) = try probe.terms(
            predicted: predicted, target: target, images: [file, .scene(scenes[1])], source: source)
        let second = try crossEntropy(
            probe.head(target.slice(axis: 0, start: 1, end: 2)),
            targets: Array(labels[4...]))
        XCTAssertEqual(try ownHalf.item(), try second.item(), accuracy: 1e-6)
        XCTAssertThrowsError(
            try probe.terms(predicted: predicted, target: target, images: [.scene(scenes[0])], source: source))
        let three = Tensor.randn([2, 3, 6], rng: &rng)
        XCTAssertThrowsError(
            try probe.terms(predicted: three, target: three, images: scenes.map { .scene($0) }, source: source),
            "3 tokens: no grid")
    }

    /// The stage logs both terms; its final checkpoint leaves the probe out (so inference loads it strictly) while
    /// `last.h5` keeps it for an exact resume.
    func testStageAddsTheTermsAndExportsWithoutTheProbe() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pipeline = try PipelineRecipe(node: RecipeNode.load(TinyRecipes.writePipeline(in: dir)).node)
        var predicted: [String: ModelParts] = [:]
        for var recipe in try pipeline.loadStages() {
            let isMLLM = recipe.name == "mllm"
            if isMLLM { recipe = try recipe.with(["loss.shape_probe=0.5"]) }
            let stage = try StageBuilder.fresh(recipe, predicted: predicted)
            predicted[recipe.name] = stage.parts
            guard isMLLM else { continue }
            var rng = RNG(seed: 1)
            let loss = try stage.loss(indices: Array(0..<8), rng: &rng)
            XCTAssertEqual(Array(loss.terms.map(\.0).suffix(2)), ["probe", "shape"])
            let named = Set(stage.model.namedParameters().map(\.0))
            XCTAssertTrue(named.contains("shape_probe.weight"))
            XCTAssertFalse(Set(stage.exportedModel.namedParameters().map(\.0)).contains("shape_probe.weight"))
            XCTAssertEqual(
                named.subtracting(stage.exportedModel.namedParameters().map(\.0)),
                ["shape_probe.weight", "shape_probe.bias"])
            return
        }
        XCTFail("the tiny pipeline has no mllm stage")
    }
}
