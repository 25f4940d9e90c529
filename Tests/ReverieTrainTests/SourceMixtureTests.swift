import Foundation
import ReverieCore
import ReverieData
import ReverieTestSupport
import XCTest

@testable import ReverieTrain

/// A mixture of sources that hold different kinds of records: each use draws from the sources that have it, and a
/// file is loaded (and prefetched) by the source that holds it.
final class SourceMixtureTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try TinyRecipes.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ lines: [String]) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testEachUseDrawsFromTheSourcesThatHaveIt() throws {
        let photos = ManifestTrainingTests.photos
        let (china, camera, rocket) = (
            photos.appendingPathComponent("china.jpg").path, photos.appendingPathComponent("camera.png").path,
            photos.appendingPathComponent("rocket.jpg").path
        )
        let captions = try write(
            "captions.jsonl",
            [
                #"{"kind": "caption", "image": "\#(china)", "text": "a temple roof"}"#,
                #"{"kind": "caption", "image": "\#(camera)", "text": "a man with a camera"}"#,
            ])
        let edits = try write(
            "edits.jsonl",
            [#"{"kind": "edit", "source": "\#(china)", "instruction": "a rocket", "target": "\#(rocket)"}"#])
        let yaml = """
            stage: vae
            model:
              vae: {channels: [8], norm_groups: 4}
            data:
              canvas: 32
              sources:
                - {manifest: \(captions.path), weight: 3}
                - {manifest: {path: \(edits.path), fit: stretch}}
            """
        let data = try Recipe(node: RecipeNode.parse(yaml: yaml, file: "r.yaml")).data.training()
        XCTAssertTrue(data.has(.imageText) && data.has(.editPair) && data.has(.record))
        var stretched = ManifestData.Config(path: edits.path)
        stretched.fit = .stretch
        let (edit, cropped) = (
            try stretched.make(canvas: 32), try ManifestData.Config(path: edits.path).make(canvas: 32)
        )
        var fromEdits = 0
        for i in 0..<60 {
            XCTAssertNotEqual(try data.imageText(at: i).text, "")
            XCTAssertEqual(try data.editPair(at: i).target, .file(URL(fileURLWithPath: rocket)))
            if case .edit = try data.record(at: i, describeEdits: false) { fromEdits += 1 }
        }
        XCTAssertTrue((5...25).contains(fromEdits), "\(fromEdits) of 60 records from the weight-1 edit source")
        // The rocket is only in the stretched edit source: the mixture loads it as that source does.
        let target = try data.editPair(at: 0).target
        XCTAssertEqual(try data.images.load(target).toArray(), try edit.images.load(target).toArray())
        XCTAssertNotEqual(try cropped.images.load(target).toArray(), try edit.images.load(target).toArray())
        data.prefetch([target])
        let owner = try XCTUnwrap((data as? SourceMixture)?.sources[1].data as? ManifestData)
        owner.loader.drain()
        _ = try data.images.load(target)
        XCTAssertEqual(owner.loader.hits, 1)
    }
}
