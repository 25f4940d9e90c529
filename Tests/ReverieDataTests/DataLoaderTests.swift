import Foundation
import ReverieCore
import XCTest

@testable import ReverieData

final class DataLoaderTests: XCTestCase {
    let world = ShapesWorld(seed: 3)
    var builder: ExampleBuilder { ExampleBuilder(encoder: ByteTextEncoder(), images: SceneImageLoader()) }

    func shapesLoader(batch: Int = 4, seed: UInt64 = 7) throws -> DataLoader {
        try DataLoader(
            sources: [
                ShapesWorldSource(world: world, kind: .caption, count: 10),
                ShapesWorldSource(world: world, kind: .edit, count: 6),
                ShapesWorldSource(world: world, kind: .interleaved, count: 5),
            ],
            weights: [1, 2, 1], builder: builder, batchSize: batch, seed: seed)
    }

    func testMixtureFollowsTheWeightsAndReadsEachEpochAsAPermutation() throws {
        var s = try MixtureSampler(counts: [40, 30, 20], weights: [1, 3, 0], seed: 1)
        var draws: [[Int]] = [[], [], []]
        for _ in 0..<4000 {
            let (k, i) = s.next()
            draws[k].append(i)
        }
        XCTAssertEqual(draws[2].count, 0, "a zero-weight source is never drawn")
        XCTAssertEqual(Double(draws[1].count) / 4000, 0.75, accuracy: 0.03)
        for (k, n) in [(0, 40), (1, 30)] {
            let epochs = stride(from: 0, to: draws[k].count - n, by: n).map { Array(draws[k][$0..<($0 + n)]) }
            XCTAssertGreaterThan(epochs.count, 2)
            for e in epochs { XCTAssertEqual(e.sorted(), Array(0..<n), "every epoch reads every record once") }
            XCTAssertNotEqual(epochs[0], epochs[1], "epochs are reshuffled")
        }
        XCTAssertEqual(s.shuffled(source: 0, epoch: 2), s.shuffled(source: 0, epoch: 2))
        var other = try MixtureSampler(counts: [40, 30, 20], weights: [1, 3, 0], seed: 2)
        var same = try MixtureSampler(counts: [40, 30, 20], weights: [1, 3, 0], seed: 1)
        let a = (0..<50).map { _ in same.next().index }, b = (0..<50).map { _ in other.next().index }
        XCTAssertNotEqual(a, b, "the seed changes the order")
        var again = try MixtureSampler(counts: [40, 30, 20], weights: [1, 3, 0], seed: 1)
        XCTAssertEqual((0..<50).map { _ in again.next().index }, a, "the same seed gives the same order")
    }

    func testBadMixturesAreErrors() {
        XCTAssertThrowsError(try MixtureSampler(counts: [1, 2], weights: [1], seed: 0))
        XCTAssertThrowsError(try MixtureSampler(counts: [1], weights: [0], seed: 0))
        XCTAssertThrowsError(try MixtureSampler(counts: [1], weights: [-1], seed: 0))
        XCTAssertThrowsError(try MixtureSampler(counts: [0, 3], weights: [1, 1], seed: 0))
        XCTAssertThrowsError(
            try DataLoader(
                sources: [ShapesWorldSource(world: world, kind: .caption, count: 3)],
                weights: [1], builder: builder, batchSize: 0, seed: 0))
        XCTAssertThrowsError(try LoaderPosition(integers: [1, 2], sources: 2))
        XCTAssertThrowsError(try LoaderPosition(integers: [1, -2], sources: 1))
    }

    func testResumeFromASavedPositionContinuesExactly() throws {
        var unbroken = try shapesLoader()
        let all = try (0..<6).map { _ in try unbroken.next() }
        var first = try shapesLoader()
        _ = try first.next()
        _ = try first.next()
        let saved = try LoaderPosition(integers: first.position.integers, sources: 3)
        XCTAssertEqual(saved, first.position)
        var resumed = try shapesLoader()
        try resumed.restore(saved)
        for expected in all[2...] {
            let got = try resumed.next()
            XCTAssertEqual(got.tokens, expected.tokens)
            XCTAssertEqual(got.origins.map(\.source), expected.origins.map(\.source))
            XCTAssertEqual(got.origins.map(\.index), expected.origins.map(\.index))
            XCTAssertEqual(got.lossMask.toArray(), expected.lossMask.toArray())
        }
        XCTAssertEqual(resumed.position, unbroken.position)
        var reseeded = try shapesLoader(seed: 8)
        XCTAssertNotEqual(try reseeded.next().tokens, all[0].tokens)
    }

    func testBatchesArePaddedWithMasks() throws {
        var loader = try shapesLoader(batch: 5)
        let batch = try loader.next()
        XCTAssertEqual(batch.size, 5)
        XCTAssertEqual(batch.lossMask.shape, [5, batch.length])
        XCTAssertEqual(batch.attentionMask.shape, [5, batch.length])
        let loss = batch.lossMask.toArray(), valid = batch.attentionMask.toArray()
        var sawPadding = false
        for b in 0..<5 {
            let record = try loader.sources[batch.origins[b].source].record(at: batch.origins[b].index)
            let ex = try builder.build(record)
            let n = ex.tokens.count
            XCTAssertEqual(Array(batch.tokens[b].prefix(n)), ex.tokens)
            XCTAssertTrue(batch.tokens[b].dropFirst(n).allSatisfy { $0 == ByteTextEncoder().padToken })
            XCTAssertEqual(
                Array(valid[(b * batch.length)..<((b + 1) * batch.length)]),
                Array(repeating: 1, count: n) + Array(repeating: 0, count: batch.length - n))
            XCTAssertEqual(Array(loss[(b * batch.length)..<(b * batch.length + n)]), ex.lossMask)
            XCTAssertTrue(loss[(b * batch.length + n)..<((b + 1) * batch.length)].allSatisfy { $0 == 0 })
            sawPadding = sawPadding || n < batch.length
            XCTAssertEqual(batch.inputImages[b].count, ex.tokens.filter { $0 == 258 }.count)
            XCTAssertEqual(batch.targetImages[b].count, ex.tokens.filter { $0 == 259 }.count)
        }
        XCTAssertTrue(sawPadding)
        let record = try ShapesWorldSource(world: world, kind: .caption, count: 1).record(at: 0)
        let cut = Batch([try builder.build(record)], origins: [(0, 0)], pad: 256, maxLength: 10)
        XCTAssertEqual(cut.length, 10)
    }

    func testSequenceLayouts() throws {
        let e = ByteTextEncoder()
        let edit = world.edit(at: 0)
        let ex = try builder.build(
            .edit(
                source: .scene(edit.source), instruction: edit.instruction,
                target: .scene(edit.target)))
        XCTAssertEqual(ex.tokens, [e.imageToken] + e.encode(edit.instruction) + [e.imageBeginToken])
        XCTAssertEqual(ex.lossMask, Array(repeating: 0, count: ex.tokens.count - 1) + [1])
        XCTAssertEqual(ex.inputImages.map(\.shape), [[3, 64, 64]])
        XCTAssertEqual(ex.targetImages.first?.toArray(), world.render(edit.target).tensor().toArray())
        let caption = try builder.build(.caption(image: .scene(edit.source), text: "hi"))
        XCTAssertEqual(caption.tokens, [e.imageToken, 104, 105, e.endToken])
        XCTAssertEqual(caption.lossMask, [0, 1, 1, 1])
        let t2i = try builder.build(.textToImage(text: "hi", image: .scene(edit.source)))
        XCTAssertEqual(t2i.tokens, [104, 105, e.imageBeginToken])
        XCTAssertEqual(t2i.lossMask, [0, 0, 1])
        // A described edit: the result's text (after a space) and `<img>` are targets, the instruction is not.
        let described = try builder.build(
            .edit(
                source: .scene(edit.source), instruction: "go",
                target: .scene(edit.target), result: "hi"))
        XCTAssertEqual(described.tokens, [e.imageToken, 103, 111, 32, 104, 105, e.imageBeginToken])
        XCTAssertEqual(described.lossMask, [0, 0, 0, 1, 1, 1, 1])
        XCTAssertEqual(described.targetImages.count, 1)
    }

    func testCanonicalCaptionsAreOneTextPerScene() throws {
        for i in 0..<20 {
            let scene = world.scene(at: i)
            let text = CaptionWriter.canonicalCaption(scene)
            XCTAssertEqual(text, CaptionWriter.canonicalCaption(scene))
            XCTAssertEqual(try CaptionParser.parse(text), scene, text)
        }
    }

    func testFileImagesNeedALoaderAndBadRecordsAreSkippedWhenAsked() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-loader-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("x.png").path, contents: Data([1]))
        let url = folder.appendingPathComponent("m.jsonl")
        try #"{"kind": "caption", "image": "x.png", "text": "a"}"#.write(to: url, atomically: true, encoding: .utf8)
        let files = ManifestSource(try Manifest(contentsOf: url))
        let shapes = ShapesWorldSource(world: world, kind: .textToImage, count: 4)
        var strict = try DataLoader(sources: [files], weights: [1], builder: builder, batchSize: 2, seed: 0)
        XCTAssertThrowsError(try strict.next()) { error in
            XCTAssertTrue("\(error)".contains(folder.appendingPathComponent("x.png").standardizedFileURL.path))
        }
        var lenient = try DataLoader(
            sources: [files, shapes], weights: [1, 1], builder: builder, batchSize: 6,
            seed: 0, skipBad: true)
        let batch = try lenient.next()
        XCTAssertEqual(batch.size, 6)
        XCTAssertTrue(batch.origins.allSatisfy { $0.source == 1 })
        XCTAssertGreaterThan(lenient.skippedRecords.count, 0)
        XCTAssertTrue(lenient.skippedRecords.allSatisfy { $0.source == url.path })
        var hopeless = try DataLoader(
            sources: [files], weights: [1], builder: builder, batchSize: 1, seed: 0,
            skipBad: true)
        XCTAssertThrowsError(try hopeless.next())
    }
}
