import Foundation
import ReverieCore
import XCTest

@testable import ReverieData

final class PrefetchingLoaderTests: XCTestCase {
    let world = ShapesWorld(seed: 12)

    func loader(_ sources: [any DataSource]? = nil) throws -> DataLoader {
        let sources =
            sources ?? [
                ShapesWorldSource(world: world, kind: .caption, count: 9),
                ShapesWorldSource(world: world, kind: .edit, count: 7),
            ]
        return try DataLoader(
            sources: sources, weights: sources.map { _ in 1 },
            builder: ExampleBuilder(encoder: ByteTextEncoder(), images: SceneImageLoader()),
            batchSize: 3, seed: 4)
    }

    func testSameBatchesAndConsumedPositionAsTheUnderlyingLoader() throws {
        var plain = try loader()
        let prefetching = PrefetchingLoader(try loader(), depth: 3)
        for _ in 0..<8 {
            let a = try plain.next(), b = try prefetching.next()
            XCTAssertEqual(a.tokens, b.tokens)
            XCTAssertEqual(a.origins.map(\.index), b.origins.map(\.index))
            XCTAssertEqual(
                a.targetImages.map { $0.map { $0.toArray() } },
                b.targetImages.map { $0.map { $0.toArray() } })
            // The position is that of what was handed out, however far the thread has read ahead.
            XCTAssertEqual(prefetching.position, plain.position)
        }
        // Resume: a fresh loader restored to the saved position continues where the prefetcher's consumer stopped.
        var resumed = try loader()
        try resumed.restore(prefetching.position)
        XCTAssertEqual(try resumed.next().tokens, try plain.next().tokens)
        prefetching.stop()
    }

    func testLoaderErrorsReachTheConsumerAndEndTheStream() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-prefetch-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("x.png").path, contents: Data([1]))
        let url = folder.appendingPathComponent("m.jsonl")
        try #"{"kind": "caption", "image": "x.png", "text": "a"}"#.write(to: url, atomically: true, encoding: .utf8)
        let prefetching = PrefetchingLoader(try loader([ManifestSource(try Manifest(contentsOf: url))]))
        XCTAssertThrowsError(try prefetching.next()) { error in
            XCTAssertTrue("\(error)".contains("x.png"), "\(error)")
        }
        XCTAssertThrowsError(try prefetching.next())
    }

    func testStoppingEndsTheStreamAndReleasingStopsTheThread() throws {
        let prefetching = PrefetchingLoader(try loader(), depth: 1)
        _ = try prefetching.next()
        prefetching.stop()
        // Whatever was already prefetched may still come out; after that, next() reports the stop.
        var drained = 0
        while (try? prefetching.next()) != nil { drained += 1 }
        XCTAssertLessThanOrEqual(drained, 1)
        weak var released: PrefetchingLoader?
        do {
            let p = PrefetchingLoader(try loader(), depth: 2)
            released = p
            _ = try p.next()
        }
        XCTAssertNil(released, "the producer thread must not keep the prefetcher alive")
    }

    /// An image loader that takes 20 ms per image, like a slow disk.
    struct SlowLoader: ImageLoader {
        func load(_ ref: ImageRef) throws -> Tensor {
            Thread.sleep(forTimeInterval: 0.02)
            return try SceneImageLoader().load(ref)
        }
    }

    func testPrefetchingOverlapsLoadingWithTheTrainingStep() throws {
        func make() throws -> DataLoader {
            try DataLoader(
                sources: [ShapesWorldSource(world: world, kind: .caption, count: 20)], weights: [1],
                builder: ExampleBuilder(encoder: ByteTextEncoder(), images: SlowLoader()),
                batchSize: 1, seed: 0)
        }
        let steps = 10, step = 0.02
        var plain = try make()
        var start = Date()
        for _ in 0..<steps {
            _ = try plain.next()
            Thread.sleep(forTimeInterval: step)
        }
        let serial = Date().timeIntervalSince(start)
        let prefetching = PrefetchingLoader(try make(), depth: 2)
        start = Date()
        for _ in 0..<steps {
            _ = try prefetching.next()
            Thread.sleep(forTimeInterval: step)
        }
        let overlapped = Date().timeIntervalSince(start)
        // Serial ≈ 10 × (20 + 20) ms; overlapped ≈ 20 + 10 × 20 ms. Sleeps need no CPU, so a busy machine barely
        // moves either figure.
        XCTAssertLessThan(overlapped, 0.8 * serial, "serial \(serial) s, prefetched \(overlapped) s")
    }
}
