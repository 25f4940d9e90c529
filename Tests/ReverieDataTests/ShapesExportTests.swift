import Foundation
import ReverieData
import ReverieIO
import XCTest

final class ShapesExportTests: XCTestCase {
    func testExportWritesManifestsWhosePNGsReadBackAsTheirScenes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-shapes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let world = ShapesWorld(seed: 7)
        let manifests = try ShapesExport.write(world: world, to: dir, count: 3, kinds: ShapesExport.Kind.allCases)
        XCTAssertEqual(
            manifests.map(\.lastPathComponent), ["caption.jsonl", "t2i.jsonl", "edit.jsonl", "interleaved.jsonl"])
        let evaluator = Evaluator()
        func read(_ ref: ImageRef) throws -> PlanarImage {
            guard case .file(let url) = ref else { throw XCTSkip("expected a file reference") }
            return try PlanarImage(tensor: Image(contentsOf: url).rgb().tensor())
        }
        let captions = try Manifest(contentsOf: manifests[0]).records
        XCTAssertEqual(captions.count, 3)
        for (i, record) in captions.enumerated() {
            guard case .caption(let image, let text) = record else { return XCTFail("not a caption: \(record)") }
            let sample = world.caption(at: i)
            XCTAssertEqual(text, sample.text)
            XCTAssertTrue(evaluator.reader.read(try read(image)).matches(sample.scene), "caption \(i)")
        }
        let edits = try Manifest(contentsOf: manifests[2]).records
        for (i, record) in edits.enumerated() {
            guard case .edit(let source, let instruction, let target, _) = record else { return XCTFail("\(record)") }
            let sample = world.edit(at: i)
            XCTAssertEqual(instruction, sample.instruction)
            XCTAssertTrue(evaluator.reader.read(try read(source)).matches(sample.source), "edit source \(i)")
            XCTAssertTrue(evaluator.editIsCorrect(try read(target), target: sample.target), "edit target \(i)")
        }
        let interleaved = try Manifest(contentsOf: manifests[3]).records
        XCTAssertTrue(interleaved.allSatisfy { $0.images.count >= 2 })
        // Same seed and count: the same bytes.
        let again = dir.appendingPathComponent("again")
        _ = try ShapesExport.write(world: world, to: again, count: 3, kinds: [.t2i])
        XCTAssertEqual(
            try Data(contentsOf: again.appendingPathComponent("images/t2i/000002.png")),
            try Data(contentsOf: dir.appendingPathComponent("images/t2i/000002.png")))
    }
}
