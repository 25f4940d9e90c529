import Foundation
import ReverieCore
import ReverieData
import ReverieRuntime
import ReverieTestSupport
import ReverieTrain
import XCTest

/// Data sources by kind: the short form is one ShapesWorld source, `sources` mixes several by weight, and a new
/// source is one type and one registration line.
final class DataSourceRegistryTests: XCTestCase {
    let vae = """
        stage: vae
        model:
          vae: {channels: [8], norm_groups: 4}
        optim: {lr: 3e-3}
        train: {steps: 24, batch: 2, log_every: 4}
        """

    func recipe(_ yaml: String, root: URL? = nil) throws -> Recipe {
        try Recipe(node: RecipeNode.parse(yaml: yaml + (root.map { "\nroot: \($0.path)" } ?? ""), file: "r.yaml"))
    }

    func error(_ yaml: String) -> RecipeError? {
        do {
            _ = try recipe(yaml)
            return nil
        } catch { return error as? RecipeError }
    }

    func testShortFormAndSourcesListDescribeTheSameShapesWorld() throws {
        let short = try recipe(vae + "\ndata: {world_seed: 5, canvas: 32}")
        let long = try recipe(vae + "\ndata: {sources: [{shapes: {world_seed: 5}}], canvas: 32}")
        for r in [short, long] {
            XCTAssertEqual(r.data.worldSeeds, [5])
            XCTAssertEqual(r.data.canvas, 32)
        }
        let (a, b) = (try short.data.training(), try long.data.training())
        XCTAssertEqual(try a.image(at: 3), try b.image(at: 3))
        XCTAssertEqual(try a.images.load(a.image(at: 3)).shape, [3, 32, 32])
        // Errors name their key and line.
        let unknown = error(vae + "\ndata:\n  sources:\n    - {shapez: {world_seed: 5}}")
        XCTAssertEqual(unknown?.key, "data.sources[0].shapez")
        XCTAssertTrue(
            unknown?.message.contains("unknown data source 'shapez'") ?? false, "\(String(describing: unknown))")
        XCTAssertEqual(
            error(vae + "\ndata: {sources: [{shapes: {world_sed: 5}}]}")?.key,
            "data.sources[0].shapes.world_sed")
        XCTAssertEqual(error(vae + "\ndata: {sources: [{shapes: {}, weight: 0}]}")?.key, "data.sources[0].weight")
        XCTAssertEqual(error(vae + "\ndata: {world_seed: 2, sources: [{shapes: {}}]}")?.key, "data.world_seed")
        // Two sources mix by weight, each item from one of them, deterministically.
        let mixed = try recipe(
            vae + "\ndata: {sources: [{shapes: {world_seed: 5}, weight: 3}, {shapes: {world_seed: 6}}]}")
        let one = try recipe(vae + "\ndata: {world_seed: 5}").data.training()
        let other = try recipe(vae + "\ndata: {world_seed: 6}").data.training()
        let stream = try mixed.data.training()
        var fromFirst = 0
        for i in 0..<200 {
            let image = try stream.image(at: i)
            XCTAssertEqual(image, try stream.image(at: i))
            if image == (try one.image(at: i)) { fromFirst += 1 } else { XCTAssertEqual(image, try other.image(at: i)) }
        }
        XCTAssertTrue((120...180).contains(fromFirst), "\(fromFirst) of 200 from the weight-3 source")
    }

    func testItemsBoundsTheDistinctShapesRecords() throws {
        let bounded = try recipe(vae + "\ndata: {world_seed: 5, items: 7}").data.training()
        let endless = try recipe(vae + "\ndata: {world_seed: 5}").data.training()
        for i in [0, 3, 6] {
            XCTAssertEqual(try bounded.image(at: i + 7), try endless.image(at: i))
            XCTAssertEqual(try bounded.imageText(at: i + 14).text, try endless.imageText(at: i).text)
            XCTAssertEqual(try bounded.editPair(at: i + 7).target, try endless.editPair(at: i).target)
            XCTAssertEqual(
                try bounded.record(at: i + 21, describeEdits: false), try endless.record(at: i, describeEdits: false))
        }
        XCTAssertNotEqual(try bounded.image(at: 7), try endless.image(at: 7))
        XCTAssertEqual(error(vae + "\ndata: {items: -1}")?.key, "data.items")
    }

    func testAToyDataSourceRegistersInOneLine() throws {
        DataSourceRegistry.register(FlatColors.Config.self)
        defer { DataSourceRegistry.shared.unregister(FlatColors.Config.kind) }
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try recipe(vae + "\ndata: {sources: [{flat_colors: {levels: 4}}], canvas: 16}", root: dir)
        let outcome = try Trainer(recipe: r).run(resume: false)
        let losses = outcome.losses
        XCTAssertEqual(losses.count, 24)
        XCTAssertLessThan(losses.suffix(6).reduce(0, +), losses.prefix(6).reduce(0, +), "\(losses)")
        // A loss that reads ShapesWorld scene labels is refused on a source without them.
        let siglip = """
            stage: siglip
            data: {sources: [{flat_colors: {}}]}
            model:
              vision: {hidden: 16, layers: 1, heads: 2, image_size: 16, patch: 4}
              text: {hidden: 16, layers: 1, heads: 2}
            loss: {patch_labels: 1}
            """
        let e = error(siglip)
        XCTAssertEqual(e?.key, "loss.patch_labels")
        XCTAssertTrue(e?.message.contains("flat_colors") ?? false, "\(String(describing: e))")
    }
}

/// The toy source: flat images of `levels` gray levels, each with its level as text; no scene labels.
struct FlatColors: TrainingData {
    let levels: Int, canvas: Int
    var name: String { "flat_colors" }
    var hasSceneLabels: Bool { false }
    var images: any ImageLoader { Loader(canvas: canvas, levels: levels) }

    struct Loader: ImageLoader {
        let canvas: Int, levels: Int
        func load(_ ref: ImageRef) throws -> Tensor {
            guard case let .file(url) = ref, let level = Int(url.lastPathComponent) else {
                throw DatasetError.badImage(file: "\(ref)", reason: "not a flat colour")
            }
            return Tensor(repeating: Float(level) / Float(max(levels - 1, 1)), shape: [3, canvas, canvas])
        }
    }

    func ref(_ i: Int) -> ImageRef { .file(URL(fileURLWithPath: "/flat/\(i % levels)")) }
    func imageText(at index: Int) -> (image: ImageRef, text: String) { (ref(index), "level \(index % levels)") }
    func image(at index: Int) -> ImageRef { ref(index) }
    func editPair(at index: Int) -> (source: ImageRef, target: ImageRef) { (ref(index), ref(index + 1)) }
    func record(at index: Int, describeEdits: Bool) -> DataRecord {
        .caption(image: ref(index), text: "level \(index % levels)")
    }

    struct Config: DataSourceConfig {
        static let kind = "flat_colors"
        var levels = 2
        init() {}
        init(from decoder: Decoder) throws { try decoder.container(keyedBy: CodingKeys.self).update(&levels, .levels) }
        func validate() throws { try require(levels, in: 1...256, "levels") }
        func make(canvas: Int) -> any TrainingData { FlatColors(levels: levels, canvas: canvas) }
    }
}
