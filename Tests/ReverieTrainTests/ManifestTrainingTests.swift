import Foundation
import ReverieCore
import ReverieData
import ReverieRuntime
import ReverieTestSupport
import XCTest

@testable import ReverieTrain

/// Training from a JSONL manifest over the repository's photo fixtures (JPEG and PNG of different sizes and modes):
/// every stage trains from it, a run resumed mid-epoch matches the unbroken one, and bad data is refused before
/// step 1 naming the manifest's file and line (or skipped and listed with `skip_bad`).
final class ManifestTrainingTests: XCTestCase {
    static let photos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/photos")
    var dir: URL!

    override func setUpWithError() throws { dir = try TinyRecipes.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A manifest of every kind over seven photos, image paths relative to it.
    func writeManifest(extra: [String] = []) throws -> URL {
        let folder = dir.appendingPathComponent("data/images")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let names = [
            "china.jpg", "camera.png", "flower_rgba.png", "coffee_gray16.png", "chelsea_cmyk.jpg",
            "astronaut_palette.png", "rocket.jpg",
        ]
        for n in names {
            try? FileManager.default.copyItem(
                at: Self.photos.appendingPathComponent(n),
                to: folder.appendingPathComponent(n))
        }
        let lines =
            names.enumerated().flatMap { i, n -> [String] in
                let next = names[(i + 1) % names.count]
                return [
                    #"{"kind": "caption", "image": "images/\#(n)", "text": "a photo of \#(n.prefix { $0 != "." })"}"#,
                    #"{"kind": "text_to_image", "text": "draw \#(n.prefix { $0 != "." })", "image": "images/\#(n)"}"#,
                    #"{"kind": "edit", "source": "images/\#(n)", "instruction": "turn it into \#(next.prefix { $0 != "." })", "target": "images/\#(next)"}"#,
                ]
            } + [
                #"{"kind": "interleaved", "segments": [{"text": "draw china"}, {"image": "images/china.jpg"}, {"text": "then a camera"}, {"image": "images/camera.png"}]}"#
            ]
            + extra
        let url = dir.appendingPathComponent("data/train.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func recipe(_ stage: String, manifest: URL, steps: Int, extra: String = "", data: String? = nil) throws -> Recipe {
        let model: String
        switch stage {
        case "siglip":
            model = """
                  vision: {hidden: 16, intermediate: 32, layers: 1, heads: 2, image_size: 32, patch: 8}
                  text: {hidden: 16, intermediate: 32, layers: 1, heads: 2, projection: 16}
                """
        case "vae": model = "  vae: {channels: [8, 8], latent_channels: 4, norm_groups: 4}"
        case "decoder":
            model =
                "  vision: {init: siglip}\n  vae: {init: vae}\n"
                + "  unet: {channels: [16], heads: 2, norm_groups: 4, condition_tokens: 4, train_timesteps: 100}"
        default:
            model = """
                  vision: {init: siglip}
                  vae: {init: decoder}
                  unet: {init: decoder}
                  projector: {type: mlp}
                  llm: {hidden: 32, intermediate: 64, layers: 1, heads: 2, kv_heads: 1}
                  output: {mode: queries, head_hidden: 32}
                """
        }
        let freeze = ["decoder": "freeze: [vision, vae]\n", "mllm": "freeze: [vision, vae, unet]\n"][stage] ?? ""
        let yaml = """
            stage: \(stage)
            root: \(dir.appendingPathComponent("runs").path)
            data: \(data ?? "{manifest: \(manifest.path), canvas: 32}")
            model:
            \(model)
            \(freeze)optim: {lr: 3e-3, warmup: 1}
            train: {steps: \(steps), batch: 4, log_every: 1}
            \(extra)
            """
        return try Recipe(node: RecipeNode.parse(yaml: yaml, file: dir.appendingPathComponent("\(stage).yaml").path))
    }

    func train(_ r: Recipe) throws -> [Float] {
        let t = try Trainer(recipe: r)
        t.quiet = true
        return try t.run().losses
    }

    /// Every stage trains a few steps from the manifest (one caption longer than any tower reads), each stage over the
    /// ones before it, and its loss falls; with
    /// `data.eval_manifest` its evaluation scores that manifest (no ShapesWorld score appears).
    func testEveryStageTrainsFromAManifestOfPhotos() throws {
        // A caption longer than the text tower's positions is truncated, as SigLIP's processor does.
        let long = String(repeating: "a long caption of a rocket ", count: 12)
        let manifest = try writeManifest(extra: [
            #"{"kind": "caption", "image": "images/rocket.jpg", "text": "\#(long)"}"#
        ])
        let expected = [
            "siglip": ["retrieval_top1"], "vae": ["reconstruction_psnr", "reconstruction_ssim"],
            "decoder": ["reconstruction_psnr", "reconstruction_ssim"],
            "mllm": [
                "caption_exact", "caption_f1", "caption_bleu4", "text_to_image_psnr", "text_to_image_ssim",
                "edit_psnr", "edit_ssim", "edit_psnr_to_source", "edit_ssim_to_source", "reconstruction_psnr",
                "reconstruction_ssim",
            ],
        ]
        for (stage, steps) in [("siglip", 16), ("vae", 16), ("decoder", 16), ("mllm", 16)] {
            let r = try recipe(
                stage, manifest: manifest, steps: steps, extra: "eval: {every: 16, count: 3, sample_steps: 2}",
                data: "{manifest: \(manifest.path), canvas: 32, eval_manifest: \(manifest.path)}")
            let trainer = try Trainer(recipe: r)
            trainer.quiet = true
            let outcome = try trainer.run()
            let losses = outcome.losses
            let (first, last) = (losses.prefix(3).reduce(0, +) / 3, losses.suffix(3).reduce(0, +) / 3)
            XCTAssertLessThan(last, first, "\(stage): \(losses)")
            XCTAssertEqual(outcome.evaluation.map(\.0), expected[stage], stage)
        }
    }

    /// A manifest run stopped mid-epoch (7 images, batch 4) and resumed matches the unbroken run bit for bit.
    func testResumeMidEpochMatchesTheUnbrokenRun() throws {
        let manifest = try writeManifest()
        let unbroken = try train(recipe("vae", manifest: manifest, steps: 6, extra: "name: unbroken"))
        let r = try recipe("vae", manifest: manifest, steps: 6, extra: "name: broken\ncheckpoint: {every: 1}")
        let first = try Trainer(recipe: r)
        (first.quiet, first.stopAfter) = (true, 3)
        let a = try first.run()
        XCTAssertTrue(a.interrupted)
        let second = try Trainer(recipe: r)
        second.quiet = true
        XCTAssertEqual(a.losses + (try second.run(resume: true)).losses, unbroken)
    }

    /// The trainer names each next step's items, so a manifest run finds its images already decoded.
    func testTheTrainerPrefetchesTheNextStep() throws {
        let trainer = try Trainer(recipe: recipe("vae", manifest: writeManifest(), steps: 4))
        trainer.quiet = true
        _ = try trainer.run()
        let data = try XCTUnwrap((trainer.stage as? VAEStage)?.data as? ManifestData)
        XCTAssertGreaterThan(data.loader.hits, 0)
    }

    /// Bad data fails before step 1 naming the manifest's file and line; `skip_bad` skips, counts and lists it.
    func testBadDataIsRefusedOrSkippedBeforeTraining() throws {
        let zero = dir.appendingPathComponent("data/images/empty.png")
        try FileManager.default.createDirectory(at: zero.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data().write(to: zero)
        let corrupt = dir.appendingPathComponent("data/images/corrupt.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).write(to: corrupt)
        let cases: [(String, String)] = [
            ("not json", "not valid JSON"),
            (#"{"kind": "sketch", "image": "images/china.jpg"}"#, "unknown kind"),
            (#"{"kind": "caption", "image": "images/china.jpg"}"#, "missing field \"text\""),
            (#"{"kind": "caption", "image": "images/missing.png", "text": "x"}"#, "does not exist"),
            (#"{"kind": "caption", "image": "images/empty.png", "text": "x"}"#, "empty.png"),
            (#"{"kind": "caption", "image": "images/corrupt.jpg", "text": "x"}"#, "corrupt.jpg"),
        ]
        for (line, reason) in cases {
            let manifest = try writeManifest(extra: [line])
            XCTAssertThrowsError(try recipe("vae", manifest: manifest, steps: 2)) { error in
                XCTAssertTrue("\(error)".contains("train.jsonl:23") && "\(error)".contains(reason), "\(error)")
            }
        }
        // Non-UTF-8 text and an empty manifest.
        let latin1 = dir.appendingPathComponent("data/latin1.jsonl")
        try Data([0x7B, 0xE9, 0x7D, 0x0A]).write(to: latin1)
        XCTAssertThrowsError(try recipe("vae", manifest: latin1, steps: 2)) { XCTAssertTrue("\($0)".contains("UTF-8")) }
        let empty = dir.appendingPathComponent("data/empty.jsonl")
        try Data().write(to: empty)
        XCTAssertThrowsError(try recipe("vae", manifest: empty, steps: 2)) { error in
            XCTAssertTrue("\(error)".contains("has none"), "\(error)")
        }
        // A stage with nothing it can use: siglip needs image–text pairs.
        let editsOnly = dir.appendingPathComponent("data/edits.jsonl")
        try #"{"kind": "edit", "source": "images/china.jpg", "instruction": "x", "target": "images/camera.png"}"#
            .write(to: editsOnly, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try recipe("siglip", manifest: editsOnly, steps: 2)) { error in
            XCTAssertTrue("\(error)".contains("image–text pairs"), "\(error)")
        }
        // skip_bad: the bad lines are left out, counted and listed in the run directory; training goes on.
        let manifest = try writeManifest(extra: cases.map(\.0))
        let r = try recipe(
            "vae", manifest: manifest, steps: 2,
            data: "{sources: [{manifest: {path: \(manifest.path), skip_bad: true}}], canvas: 32}")
        XCTAssertEqual(try train(r).count, 2)
        let listed = try String(
            contentsOf: URL(fileURLWithPath: r.output).appendingPathComponent("skipped.txt"),
            encoding: .utf8)
        XCTAssertEqual(listed.split(separator: "\n").count, cases.count, listed)
    }
}

/// Manifest images decode ahead of the step that needs them, to the same tensors.
final class PrefetchingImagesTests: XCTestCase {
    func testWarmedImagesAreTheSameTensorsAndFailuresSurfaceOnLoad() throws {
        let photos = ManifestTrainingTests.photos
        let base = FileImageLoader(size: 32)
        let loader = PrefetchingImages(base, capacity: 2)
        let refs = ["china.jpg", "camera.png", "rocket.jpg"].map { ImageRef.file(photos.appendingPathComponent($0)) }
        loader.warm(refs)
        loader.drain()
        for ref in refs { XCTAssertEqual(try loader.load(ref).toArray(), try base.load(ref).toArray()) }
        XCTAssertEqual(loader.hits, 2, "a capacity of 2 keeps the last two")
        let missing = ImageRef.file(photos.appendingPathComponent("missing.png"))
        loader.warm([missing])
        loader.drain()
        XCTAssertThrowsError(try loader.load(missing)) { XCTAssertTrue("\($0)".contains("missing.png")) }
    }
}
