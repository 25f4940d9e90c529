import Foundation
import ReverieTestSupport
import XCTest

@testable import ReverieTrain

/// `recipes validate` reaches what `train` would later trip on: sequences longer than `max_positions`, and two
/// stages of a pipeline training into one run directory.
final class RecipeReachTests: XCTestCase {
    func testShortPositionsAndDuplicateStagesAreRefused() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pipeline = try TinyRecipes.writePipeline(in: dir)
        XCTAssertEqual(try RecipeValidation.validate(pipeline).count, 5)
        XCTAssertThrowsError(try RecipeValidation.validate(pipeline, overrides: ["model.llm.max_positions=8"])) {
            XCTAssertTrue("\($0)".contains("max_positions: 8 is shorter than the sequences of the data"), "\($0)")
        }
        let twice = dir.appendingPathComponent("twice.yaml")
        try "root: \(dir.path)/runs\nstages: [vae.yaml, siglip.yaml, vae.yaml]\n".write(
            to: twice, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RecipeValidation.validate(twice)) {
            XCTAssertTrue("\($0)".contains("vae.yaml and vae.yaml both train into"), "\($0)")
        }
    }
}

/// A step that could never fit in memory is refused by `recipes validate` and before the first step, naming the
/// setting to change, and the run directory keeps no checkpoint of it.
final class StepMemoryCheckTests: XCTestCase {
    func testAnImpossibleBatchIsRefusedBeforeTheFirstStep() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("vae.yaml")
        try TinyRecipes.text("vae", root: dir.path, steps: 2).write(to: url, atomically: true, encoding: .utf8)
        XCTAssertTrue(try RecipeValidation.validate(url)[0].contains(", a step holds about "))
        // Past 1024 pixels a side, one item's probe could itself exhaust the machine: such a canvas is refused.
        XCTAssertThrowsError(try RecipeValidation.validate(url, overrides: ["data.canvas=2048"])) { error in
            XCTAssertTrue("\(error)".contains("data.canvas") && "\(error)".contains("1024"), "\(error)")
        }
        // `recipes validate` measures the same and refuses it first, naming the setting.
        XCTAssertThrowsError(try RecipeValidation.validate(url, overrides: ["train.batch=65536"])) { error in
            XCTAssertTrue("\(error)".contains("train.batch") && "\(error)".contains("lower train.batch"), "\(error)")
        }
        var recipe = try Recipe.load(url)
        recipe.loop.batch = 65536
        let trainer = try Trainer(recipe: recipe)
        trainer.quiet = true
        XCTAssertThrowsError(try trainer.run()) { error in
            guard case TrainError.stepTooLarge? = error as? TrainError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("lower train.batch"), "\(error)")
        }
        XCTAssertFalse(
            FileManager.default.fileExists(
                atPath: URL(fileURLWithPath: recipe.output).appendingPathComponent("last.h5").path))
    }
}
