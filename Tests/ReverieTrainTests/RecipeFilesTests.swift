import Foundation
import ReverieData
import ReverieRuntime
import ReverieTestSupport
import ReverieTrain
import XCTest

enum ShapesWorldFixture {
    static let world = ShapesWorld(seed: 11)
}

/// Every recipe shipped under `recipes/` validates (keys, types, chained parts, model shapes).
final class RecipeFilesTests: XCTestCase {
    func testEveryShippedRecipeValidates() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("recipes")
        let files =
            FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "yaml" } ?? []
        XCTAssertGreaterThanOrEqual(files.count, 10)
        // Under a root with no runs, as on a fresh clone: every `init: <stage>` is checked against the sibling recipe.
        let fresh =
            "root=" + FileManager.default.temporaryDirectory.appendingPathComponent("reverie-no-runs-\(UUID())").path
        for file in files where file.deletingLastPathComponent().lastPathComponent != "pretrained" {
            XCTAssertNoThrow(try RecipeValidation.validate(file, overrides: [fresh]), file.path)
        }
        // recipes/pretrained/ names checkpoints/ directories a user downloads: validated where they are the
        // random-init directories of the same layouts.
        let scratch = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let pretrained = try PretrainedMirror.make(repository: root.deletingLastPathComponent(), in: scratch)
        for name in ["pipeline", "decoder", "mllm"] {
            let file = pretrained.appendingPathComponent("\(name).yaml")
            XCTAssertNoThrow(try RecipeValidation.validate(file, overrides: [fresh]), file.path)
        }
    }

    /// The mllm variants differ from mllm.yaml only in the projector line.
    func testProjectorVariantsDifferInOneLine() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("recipes/shapes")
        let base = try String(contentsOf: dir.appendingPathComponent("mllm.yaml"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }
        for kind in ["mlp", "qformer", "resampler", "pool"] {
            let variant = try String(contentsOf: dir.appendingPathComponent("mllm-\(kind).yaml"), encoding: .utf8)
                .split(separator: "\n").filter { !$0.hasPrefix("#") }
            XCTAssertEqual(variant.count, base.count)
            let differing = zip(base, variant).filter { $0 != $1 }
            XCTAssertLessThanOrEqual(differing.count, 1, kind)
            XCTAssertTrue(differing.allSatisfy { $0.1.contains("projector:") }, kind)
        }
    }
}
