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
