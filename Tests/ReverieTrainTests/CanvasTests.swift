import Foundation
import ReverieRuntime
import ReverieTestSupport
import ReverieTrain
import XCTest

/// Canvases other than 64 work through every stage: trained a few steps and evaluated (drawing included) at 32, 96
/// and 128 pixels, the encoder's image size following the canvas.
final class CanvasTests: XCTestCase {
    func testEveryStageTrainsAndEvaluatesAtOtherCanvases() throws {
        for (canvas, patch) in [(32, 8), (96, 24), (128, 32)] {
            let dir = try TinyRecipes.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let (_, stages) = try PipelineRecipe.load(
                TinyRecipes.writePipeline(in: dir, steps: 2),
                overrides: [
                    "data.canvas=\(canvas)", "model.vision.image_size=\(canvas)", "model.vision.patch=\(patch)",
                ])
            for recipe in stages {
                let trainer = try Trainer(recipe: recipe)
                trainer.quiet = true
                let losses = try trainer.run().losses
                XCTAssertEqual(losses.count, 2, "\(recipe.name) at \(canvas)")
                XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(recipe.name) at \(canvas): \(losses)")
                let scores = try trainer.stage.evaluate(count: 2, seed: 99, sheet: nil, share: .alone)
                XCTAssertFalse(scores.isEmpty, "\(recipe.name) at \(canvas)")
            }
        }
        // A canvas the encoder does not take is refused before training, naming both values.
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, stages) = try PipelineRecipe.load(TinyRecipes.writePipeline(in: dir), overrides: ["data.canvas=32"])
        XCTAssertThrowsError(try RecipeValidation.validate(stages: stages)) { error in
            XCTAssertTrue("\(error)".contains("data.canvas") && "\(error)".contains("64"), "\(error)")
        }
    }
}
