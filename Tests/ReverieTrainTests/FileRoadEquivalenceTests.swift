import Foundation
import ReverieCore
import ReverieData
import ReverieTestSupport
import XCTest

@testable import ReverieTrain

/// The file road against the memory road (issue 35's study): ShapesWorld exported as PNGs and manifests, read back by
/// `ManifestData`, gives the mllm stage the same examples as `ShapesSource` renders in memory — the same texts and
/// tokens, the same loss masks, images equal to within 8-bit rounding — and draws the record kinds in the same
/// proportions.
final class FileRoadEquivalenceTests: XCTestCase {
    func testTheMLLMStageGetsTheSameExamplesFromFilesAsInMemory() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let world = ShapesWorld(seed: 7, canvas: 64)
        let count = 12
        let kinds = ShapesExport.Kind.allCases
        let manifests = try ShapesExport.write(world: world, to: dir, count: count, kinds: kinds)
        let train = dir.appendingPathComponent("train.jsonl")
        try manifests.map { try String(contentsOf: $0, encoding: .utf8) }.joined()
            .write(to: train, atomically: true, encoding: .utf8)
        let files = try XCTUnwrap(ManifestData.Config(path: train.path).make(canvas: 64) as? ManifestData)
        XCTAssertEqual(files.records.count, count * kinds.count)

        let memory = ShapesSource(world: world, mixture: [("caption", 1)], editKinds: [])
        let encoder = ByteTextEncoder()
        let fromFiles = ExampleBuilder(encoder: encoder, images: files.images)
        let inMemory = ExampleBuilder(encoder: encoder, images: memory.images)
        for (k, kind) in kinds.enumerated() {
            for i in 0..<count {
                let record = files.records[k * count + i]
                let expected = try ShapesWorldSource(
                    world: world, kind: ShapesWorldSource.Kind(rawValue: kind.rawValue)!, count: count
                ).record(at: i)
                let a = try fromFiles.build(record), b = try inMemory.build(expected)
                let what = "\(kind) \(i)"
                XCTAssertEqual(a.tokens, b.tokens, what)
                XCTAssertEqual(a.lossMask, b.lossMask, what)
                XCTAssertEqual(a.inputImages.count, b.inputImages.count, what)
                XCTAssertEqual(a.targetImages.count, b.targetImages.count, what)
                for (x, y) in zip(a.inputImages + a.targetImages, b.inputImages + b.targetImages) {
                    XCTAssertEqual(x.shape, y.shape, what)
                    let gap = zip(x.toArray(), y.toArray()).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThanOrEqual(gap, 1 / 510 + 1e-6, what)
                }
            }
        }

        // The kinds' shares over a long stream: the file road shuffles the records (exact shares per epoch), the
        // memory road draws each index's kind from the mixture.
        let mixture: [(String, Double)] = [("caption", 2), ("text_to_image", 1.5), ("edit", 1), ("interleaved", 0.5)]
        let drawn = ShapesSource(world: world, mixture: mixture, editKinds: [])
        func share(_ source: any TrainingData, _ n: Int) throws -> [String: Double] {
            var tally: [String: Double] = [:]
            for index in 0..<n { tally[try source.record(at: index, describeEdits: false).kind, default: 0] += 1 }
            return tally.mapValues { $0 / Double(n) }
        }
        let n = 4000
        let memoryShares = try share(drawn, n), fileShares = try share(files, n)
        for name in ["caption", "text_to_image", "edit", "interleaved"] {
            let want = mixture.first { $0.0 == name }!.1 / 5
            XCTAssertEqual(memoryShares[name] ?? 0, want, accuracy: 0.05, "memory \(name)")
            // The export holds the kinds 1 : 1 : 1 : 1 here, not in the mixture's proportions.
            XCTAssertEqual(fileShares[name] ?? 0, 0.25, accuracy: 0.02, "files \(name)")
        }
    }
}
