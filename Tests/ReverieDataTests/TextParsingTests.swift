import ReverieCore
import XCTest

@testable import ReverieData

final class TextParsingTests: XCTestCase {
    func testEveryCaptionAndPromptParsesBackToItsScene() throws {
        let world = ShapesWorld(seed: 21)
        var templates = Set<String>()
        for i in 0..<2000 {
            let c = world.caption(at: i), p = world.textToImage(at: i)
            XCTAssertEqual(try CaptionParser.parse(c.text), c.scene, c.text)
            XCTAssertEqual(try CaptionParser.parse(p.text), p.scene, p.text)
            XCTAssertTrue(Evaluator().captionMatches(c.text, truth: c.scene))
            templates.insert(String(c.text.prefix(8)))
        }
        XCTAssertGreaterThanOrEqual(templates.count, 4, "captions should vary: \(templates)")
    }

    func testEveryEditInstructionAppliesBackToItsTarget() throws {
        let world = ShapesWorld(seed: 22)
        for i in 0..<1200 {
            let e = world.edit(at: i)
            XCTAssertEqual(try EditParser.apply(e.instruction, to: e.source), e.target, e.instruction)
        }
    }

    func testHandWrittenCaptions() throws {
        let scene = try CaptionParser.parse(
            "there is a large blue square at the center and a small green triangle at the bottom right. "
                + "the background is grey.")
        XCTAssertEqual(scene.background, .gray)
        XCTAssertEqual(
            scene.objects,
            [
                SceneObject(shape: .square, color: .blue, size: .large, cell: GridCell(index: 4)),
                SceneObject(shape: .triangle, color: .green, size: .small, cell: GridCell(index: 8)),
            ])
        XCTAssertEqual(
            try CaptionParser.parse("a little red circle in the top left, white background").objects,
            [SceneObject(shape: .circle, color: .red, size: .small, cell: GridCell(index: 0))])
    }

    func testWrongOrIncompleteCaptionsDoNotMatch() throws {
        let truth = try CaptionParser.parse("a small red circle in the top left on a white background")
        let evaluator = Evaluator()
        XCTAssertTrue(
            evaluator.captionMatches(
                "a white background with a little red circle at the top left",
                truth: truth))
        for wrong in [
            "a small red circle in the top right on a white background",
            "a large red circle in the top left on a white background",
            "a small blue circle in the top left on a white background",
            "a small red square in the top left on a white background",
            "a small red circle in the top left on a black background",
            "a small red circle in the top left and a small red square in the center on a white background",
            "a small red circle in the top left", "a red circle in the top left on white", "",
        ] {
            XCTAssertFalse(evaluator.captionMatches(wrong, truth: truth), wrong)
        }
    }

    func testParserErrorsSayWhatIsWrong() {
        func reason(_ text: String) -> String? {
            do {
                _ = try CaptionParser.parse(text)
                return nil
            } catch let ShapesWorldError.unparsableText(_, reason) {
                return reason
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(reason("a small red circle in the center"), "no background colour")
        XCTAssertEqual(reason("a small red circle on a white background"), "no position for the small red circle")
        XCTAssertEqual(reason("a small circle at the top, white"), "expected a colour and a shape after \"small\"")
        XCTAssertEqual(
            reason("white and black background, a small red circle at the top"),
            "two backgrounds, white and black")
        XCTAssertEqual(
            reason("a small red circle at the top and a large blue square at the top, white"),
            "two objects in one cell")
    }

    func testEditParserRejectsAmbiguousOrUnknownReferences() throws {
        let two = try CaptionParser.parse("a small red circle at the top and a large red circle at the bottom, white")
        XCTAssertThrowsError(try EditParser.apply("make the red circle blue", to: two))
        XCTAssertEqual(
            try EditParser.apply("make the small red circle blue", to: two).objects.map(\.color),
            [.blue, .red])
        XCTAssertEqual(
            try EditParser.apply("move the red circle at the bottom to the center", to: two)
                .objects.map(\.cell.name), ["top", "center"])
        XCTAssertThrowsError(try EditParser.apply("remove the green square", to: two))
        XCTAssertThrowsError(try EditParser.apply("move the small red circle to the bottom", to: two))
        XCTAssertThrowsError(try EditParser.apply("make the small red circle", to: two))
        XCTAssertThrowsError(try EditParser.apply("", to: two))
    }
}
