import Foundation
import ReverieCore
import ReverieIO
import ReverieMultimodal
import ReverieNN
import ReverieRuntime
import ReverieTestSupport
import ReverieTrain
import XCTest

final class TrainerTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try TinyRecipes.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func recipe(_ stage: String, steps: Int, extra: String = "", name: String? = nil) throws -> Recipe {
        let url = dir.appendingPathComponent("\(name ?? stage).yaml")
        try TinyRecipes.text(stage, root: dir.appendingPathComponent("runs").path, steps: steps, extra: extra)
            .write(to: url, atomically: true, encoding: .utf8)
        return try Recipe.load(url)
    }

    /// Every stage chains into the next (init from the previous final.h5), and the final model generates,
    /// captions, edits and reconstructs.
    func testPipelineStagesChainIntoAModelThatRuns() throws {
        let pipeline = try PipelineRecipe(node: RecipeNode.load(TinyRecipes.writePipeline(in: dir)).node)
        XCTAssertEqual(try RecipeValidation.validate(URL(fileURLWithPath: pipeline.file)).count, 5)
        var last: URL?
        for recipe in try pipeline.loadStages() {
            let trainer = try Trainer(recipe: recipe)
            trainer.quiet = true
            let outcome = try trainer.run()
            XCTAssertFalse(outcome.interrupted)
            XCTAssertEqual(outcome.losses.count, 3)
            XCTAssertTrue(outcome.losses.allSatisfy(\.isFinite))
            last = outcome.checkpoint
        }
        // The decoder stage really starts from the siglip encoder: identical weights in both checkpoints.
        let runs = dir.appendingPathComponent("runs")
        let key = "vision_encoder.embeddings.patch_embedding.weight"
        XCTAssertEqual(
            try Checkpoint.readTensor(key, from: runs.appendingPathComponent("siglip/final.h5")).toArray(),
            try Checkpoint.readTensor(key, from: runs.appendingPathComponent("mllm/final.h5")).toArray())
        // The siglip stage's patch-label head stays in the siglip checkpoint; later stages take only the encoder.
        XCTAssertNoThrow(
            try Checkpoint.readTensor("patch_head.weight", from: runs.appendingPathComponent("siglip/final.h5")))
        XCTAssertThrowsError(
            try Checkpoint.readTensor("patch_head.weight", from: runs.appendingPathComponent("mllm/final.h5")))
        // The tune stage (an mllm stage named `tune`, only `unet` unfrozen) moved the UNet and nothing else.
        let mllm = runs.appendingPathComponent("mllm/final.h5"), tune = runs.appendingPathComponent("tune/final.h5")
        XCTAssertEqual(last, tune)
        for (key, moves) in [
            ("decoder.unet.conv_in.weight", true), ("llm.model.embed_tokens.weight", false),
            ("output_head.mlp.fc1.weight", false), ("decoder.vae.decoder.conv_in.weight", false),
        ] {
            let same =
                try Checkpoint.readTensor(key, from: mllm).toArray() == Checkpoint.readTensor(key, from: tune).toArray()
            XCTAssertEqual(same, !moves, key)
        }
        // The VAE stage recorded its measured latent scale, and the later stages carry it.
        let (model, record) = try ModelAssembly.loadMultimodal(try XCTUnwrap(last))
        XCTAssertNotEqual(record.parts.vae?.scalingFactor, 1)
        XCTAssertEqual(model.decoder?.vae.config.scalingFactor, Float(record.parts.vae!.scalingFactor))
        var drawing = DrawingOptions()
        (drawing.steps, drawing.guidance, drawing.seed) = (2, 2, 1)
        let runner = ModelRunner(model: model, text: try record.parts.textEncoder(), drawing: drawing)
        let world = ShapesWorldFixture.world
        let image = world.render(world.scene(at: 0))
        XCTAssertEqual(try runner.generate("a red circle").size, 64)
        XCTAssertEqual(try runner.edit(image, "make it blue").size, 64)
        XCTAssertEqual(try runner.reconstruct(image).size, 64)
        // Through the autoencoder alone nothing is sampled: the same image whatever the seed, unlike the denoiser's.
        drawing.seed = 2
        let other = ModelRunner(model: model, text: try record.parts.textEncoder(), drawing: drawing)
        XCTAssertEqual(try runner.autoencode(image), try other.autoencode(image))
        XCTAssertNotEqual(try runner.reconstruct(image), try other.reconstruct(image))
        _ = try runner.caption(image)
        // The mllm stage's BPE tokenizer travels in its checkpoints (and the exported model), not in model_config.
        XCTAssertEqual(record.parts.llm?.tokenizer, "bpe")
        let stored = try XCTUnwrap(Checkpoint.readAttributes(from: XCTUnwrap(last))["tokenizer"]?.stringValue)
        XCTAssertEqual(stored, try String(contentsOf: runs.appendingPathComponent("tokenizer.json"), encoding: .utf8))
        XCTAssertEqual(record.parts.llm?.vocab, 320)
        XCTAssertFalse(try record.json().contains("merges"))
        let encoded = try record.parts.textEncoder().encode("a red circle")
        XCTAssertLessThan(encoded.count, "a red circle".utf8.count)
        XCTAssertEqual(try record.parts.textEncoder().decode(encoded), "a red circle")
        // A checkpoint that names a bpe tokenizer but lost its text says so.
        var stripped = try Checkpoint.read(from: XCTUnwrap(last))
        stripped.attributes["tokenizer"] = nil
        let strippedURL = dir.appendingPathComponent("no-tokenizer.h5")
        try stripped.write(to: strippedURL)
        XCTAssertThrowsError(try ModelAssembly.loadMultimodal(strippedURL)) { error in
            guard case let .badModel(file, detail)? = error as? RuntimeError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, strippedURL.path)
            XCTAssertTrue(detail.hasPrefix("tokenizer: missing"), detail)
        }
        XCTAssertNotNil(model.visualPositions)
        XCTAssertTrue(model.config.residualConditions)
        XCTAssertThrowsError(try runner.generate(""))
        XCTAssertThrowsError(try runner.edit(image, ""))
    }

    /// `StageBuilder.fresh` (what `reverie bench stages` steps): every stage of a pipeline whose earlier stages never
    /// ran, built from predicted parts and frozen as its recipe says; a `trainStep` moves what trains and nothing
    /// else, and writes nothing.
    func testFreshStagesStepWithoutAnyCheckpoint() throws {
        let pipeline = try PipelineRecipe(node: RecipeNode.load(TinyRecipes.writePipeline(in: dir)).node)
        var predicted: [String: ModelParts] = [:]
        for recipe in try pipeline.loadStages() {
            let stage = try StageBuilder.fresh(recipe, predicted: predicted)
            predicted[recipe.name] = stage.parts
            let frozen = recipe.freeze.flatMap(\.prefixes)
            let named = stage.model.namedParameters()
            let isFrozen = { (key: String) in frozen.contains { key.hasPrefix($0) } }
            let trainable = Set(stage.model.trainableParameters().map(\.0))
            XCTAssertFalse(trainable.isEmpty, recipe.name)
            XCTAssertTrue(trainable.allSatisfy { !isFrozen($0) }, recipe.name)
            let before = named.map { ($0.0, $0.1.toArray()) }
            let trainer = try Trainer(recipe: recipe, stage: stage)
            let (loss, _) = try trainer.trainStep()
            XCTAssertTrue(loss.isFinite, recipe.name)
            var moved = 0
            for ((key, old), (_, p)) in zip(before, named) where old != p.toArray() {
                XCTAssertTrue(trainable.contains(key), "\(recipe.name): \(key) is frozen but moved")
                moved += 1
            }
            XCTAssertGreaterThan(moved, 0, recipe.name)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs/siglip").path))
    }

    /// `loss.patch_labels` adds a `patch` term and a `patch_objects` score to the siglip stage; without it, neither.
    func testPatchLabelsAddATermAndAnAccuracy() throws {
        let stage = try StageBuilder.build(try recipe("siglip", steps: 1))
        var rng = RNG(seed: 1)
        let loss = try stage.loss(indices: [0, 1], rng: &rng)
        XCTAssertEqual(loss.terms.map(\.0), ["sigmoid", "patch"])
        XCTAssertEqual(try loss.total.item(), loss.terms[0].1 + loss.terms[1].1, accuracy: 1e-4)  // weight 1
        XCTAssertGreaterThan(loss.terms[1].1, 0.1)  // an untrained head: cross-entropy near ln 4 on 4 classes
        let scores = try stage.evaluate(count: 4, seed: 2, sheet: nil, share: .alone)
        XCTAssertEqual(
            scores.map(\.0),
            ["retrieval_top1", "loud_circle_square", "loud_circle_triangle", "loud_colour", "patch_objects"])
        XCTAssertTrue([scores[0], scores[4]].allSatisfy { (0...1).contains($0.1) }, "\(scores)")
        XCTAssertTrue(scores[1...3].allSatisfy { $0.1 > 0 && $0.1 < 10 }, "\(scores)")
        let noLabels = try recipe("siglip", steps: 1, name: "plain").with(["loss.patch_labels=0"])
        let plain = try StageBuilder.build(noLabels)
        XCTAssertEqual(try plain.loss(indices: [0, 1], rng: &rng).terms.map(\.0), ["sigmoid"])
    }

    /// `loss.patch_head: fixed` reads the labels along constant orthonormal directions: the same loss terms and
    /// score, but no trained head (nothing under `patch_head` in the model's keys). With `loss.patch_colors` the
    /// colour labels get directions of their own, orthonormal to the shape ones.
    func testFixedPatchHeadIsOrthonormalAndUntrained() throws {
        var rng = RNG(seed: 3)
        let blocks = try PatchHead.orthonormalBlocks([4, 7], 16, rng: &rng)
        XCTAssertEqual(blocks.map(\.shape), [[4, 16], [7, 16]])
        let w = blocks.flatMap { $0.toArray() }
        for i in 0..<11 {
            for j in 0..<11 {
                let dot = (0..<16).reduce(Float(0)) { $0 + w[i * 16 + $1] * w[j * 16 + $1] }
                XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-5, "rows \(i), \(j)")
            }
        }
        var fixed = try recipe("siglip", steps: 1, name: "fixed").with(["loss.patch_head=fixed", "loss.patch_colors=2"])
        let stage = try StageBuilder.build(fixed)
        let loss = try stage.loss(indices: [0, 1], rng: &rng)
        XCTAssertEqual(loss.terms.map(\.0), ["sigmoid", "patch", "patch_color"])
        XCTAssertGreaterThan(loss.terms[1].1, 0.1)
        XCTAssertGreaterThan(loss.terms[2].1, 0.1)
        XCTAssertEqual(
            try stage.evaluate(count: 4, seed: 2, sheet: nil, share: .alone).map(\.0),
            [
                "retrieval_top1", "loud_circle_square", "loud_circle_triangle", "loud_colour", "patch_objects",
                "patch_colors",
            ])
        XCTAssertFalse(stage.model.namedParameters().contains { $0.0.hasPrefix("patch_") })
        XCTAssertTrue(stage.model.namedParameters().contains { $0.0.hasPrefix("vision_encoder.") })
        // Learned heads are saved under their own keys.
        fixed = try fixed.with(["loss.patch_head=learned"])
        let learned = try StageBuilder.build(fixed).model.namedParameters().map(\.0)
        XCTAssertTrue(learned.contains("patch_head.weight"))
        XCTAssertTrue(learned.contains("patch_color_head.weight"))
    }

    /// The loudness probe on the pixels themselves: a colour change moves every pixel of the object, a shape change
    /// only those where the outlines differ, so colour is louder; features that ignore the image have no loudness.
    func testFeatureLoudnessOnPixels() throws {
        let pixels = try FeatureLoudness.measure(canvas: 32) { try $0.reshape([$0.shape[0], 1, -1]) }
        XCTAssertEqual(pixels.map(\.0), ["loud_circle_square", "loud_circle_triangle", "loud_colour"])
        XCTAssertGreaterThan(pixels[0].1, 1e-4)
        XCTAssertGreaterThan(pixels[1].1, pixels[0].1)  // a triangle leaves more of the circle's box than a square
        XCTAssertGreaterThan(pixels[2].1, 2 * pixels[1].1)
        let blind = try FeatureLoudness.measure(canvas: 32) { Tensor(zeros: [$0.shape[0], 2, 3]) }
        XCTAssertEqual(blind.map(\.1), [0, 0, 0])
    }

    /// A run stopped at step 3 and resumed in a new process-like trainer gives the unbroken run's losses bit for
    /// bit (weights, AdamW moments, RNG and data position all restored), with gradient accumulation on.
    func testResumeMatchesUnbrokenRun() throws {
        let extra = "checkpoint: {every: 2}"
        var unbrokenRecipe = try recipe("siglip", steps: 6, extra: extra)
        unbrokenRecipe.loop.accumulate = 2
        let unbroken = try Trainer(recipe: unbrokenRecipe)
        unbroken.quiet = true
        let reference = try unbroken.run().losses

        var r = try recipe("siglip", steps: 6, extra: extra, name: "siglip-b")
        r.output += "-b"
        r.loop.accumulate = 2
        let first = try Trainer(recipe: r)
        first.quiet = true
        first.stopAfter = 3
        let a = try first.run()
        XCTAssertTrue(a.interrupted)
        XCTAssertEqual(a.step, 3)
        XCTAssertThrowsError(try Trainer(recipe: r).run())  // an existing run is never overwritten
        let second = try Trainer(recipe: r)
        second.quiet = true
        let b = try second.run(resume: true)
        XCTAssertEqual(a.losses + b.losses, reference)
        let metrics = try String(
            contentsOf: URL(fileURLWithPath: r.output).appendingPathComponent("metrics.jsonl"),
            encoding: .utf8)
        XCTAssertEqual(metrics.split(separator: "\n").count, 6)
    }

    func testGradientAccumulationAveragesMicroBatches() throws {
        var r = try recipe("vae", steps: 2)
        r.loop.accumulate = 2
        let t = try Trainer(recipe: r)
        t.quiet = true
        let out = try t.run()
        XCTAssertEqual(out.losses.count, 2)
        let position = try Checkpoint.read(from: URL(fileURLWithPath: r.output).appendingPathComponent("last.h5"))
            .integers["state.data.position"]
        XCTAssertEqual(position, [8])  // 2 steps × 2 micro-batches × batch 2
    }

    /// A NaN loss stops the run naming the step; the last checkpoint (step 2) is intact and resumable.
    func testNonFiniteLossStopsAndKeepsTheLastCheckpoint() throws {
        let r = try recipe("vae", steps: 6, extra: "checkpoint: {every: 2}")
        // Call 1 is the memory check's probe before step 1; calls 2–4 are steps 1–3.
        let stage = try PoisonedStage(StageBuilder.build(r), poisonAt: 4)
        let t = try Trainer(recipe: r, stage: stage)
        t.quiet = true
        XCTAssertThrowsError(try t.run()) { error in
            guard case let TrainError.nonFinite(step, _, last)? = error as? TrainError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(step, 4)
            XCTAssertEqual(last.map { URL(fileURLWithPath: $0).lastPathComponent }, "last.h5")
        }
        let saved = try Checkpoint.read(from: URL(fileURLWithPath: r.output).appendingPathComponent("last.h5"))
        XCTAssertEqual(saved.step, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: r.finalCheckpoint.path))
    }

    func testMissingStageOutputNamesTheStageToRun() throws {
        let r = try recipe("decoder", steps: 1)
        XCTAssertThrowsError(try StageBuilder.build(r)) { error in
            let e = error as? RecipeError
            XCTAssertEqual(e?.key, "model.vae.init")
            XCTAssertEqual(e?.line, 7)
            XCTAssertTrue(e?.message.contains("run the vae stage first") ?? false, "\(error)")
        }
    }

    func testImpossibleShapesFailBeforeTraining() throws {
        // 3 × 3 condition tokens cannot pool a 4 × 4 patch grid.
        let url = dir.appendingPathComponent("bad.yaml")
        try TinyRecipes.text("siglip", root: dir.path).write(
            to: dir.appendingPathComponent("siglip.yaml"),
            atomically: true, encoding: .utf8)
        try TinyRecipes.text("vae", root: dir.path).write(
            to: dir.appendingPathComponent("vae.yaml"),
            atomically: true, encoding: .utf8)
        try TinyRecipes.text("decoder", root: dir.path).replacingOccurrences(
            of: "condition_tokens: 4",
            with: "condition_tokens: 9"
        )
        .write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RecipeValidation.validate(url)) { error in
            XCTAssertTrue("\(error)".contains("condition_tokens"), "\(error)")
            XCTAssertTrue("\(error)".hasPrefix(url.path), "\(error)")
        }
    }
}

/// Wraps a stage so that its loss becomes NaN from micro-batch `poisonAt` on.
final class PoisonedStage: TrainingStage {
    let inner: any TrainingStage
    let poisonAt: Int
    var calls = 0
    init(_ inner: any TrainingStage, poisonAt: Int) { (self.inner, self.poisonAt) = (inner, poisonAt) }
    var kind: StageKind { inner.kind }
    var model: Module { inner.model }
    var parts: ModelParts { inner.parts }
    func loss(indices: [Int], rng: inout RNG) throws -> StageLoss {
        var l = try inner.loss(indices: indices, rng: &rng)
        calls += 1
        if calls > poisonAt { l.total = l.total * Float.nan }
        return l
    }
    func partition(_ indices: Range<Int>, parts: Int) -> [[Int]] { inner.partition(indices, parts: parts) }
    func evaluate(count: Int, seed: UInt64, sheet: URL?, share: ItemShare) throws -> [(String, Double)] { [] }
    func finish() throws {}
}

/// `init: <run>` names any earlier run under the root — a stage kind or a stage's `name` — and `init: <file>` a file.
final class NamedRunInitTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try TinyRecipes.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ text: String) throws -> URL {
        let url = dir.appendingPathComponent("\(name).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// A vae run named `more` continues from `vae`; a third run initialises from `more` by its name.
    func testALaterStageInitialisesFromANamedRun() throws {
        let root = dir.appendingPathComponent("runs").path
        let first = try write("vae", TinyRecipes.text("vae", root: root, steps: 2))
        let chained = TinyRecipes.text("vae", root: root, steps: 2)
            .replacingOccurrences(of: "stage: vae", with: "stage: vae\nname: more")
            .replacingOccurrences(of: TinyRecipes.vae, with: "vae: {init: vae}")
        let more = try write("more", chained)
        let last = try write(
            "last",
            chained.replacingOccurrences(of: "name: more", with: "name: last")
                .replacingOccurrences(of: "vae: {init: vae}", with: "vae: {init: more}"))

        let recipe = try Recipe.load(last)
        XCTAssertEqual(recipe.name, "last")
        XCTAssertEqual(recipe.sources[.vae], .checkpoint(path: root + "/more/final.h5", run: "more", line: 7))
        // Before any run exists, validation predicts `more` from its sibling more.yaml (itself from vae.yaml).
        XCTAssertEqual(try RecipeValidation.validate(last).count, 1)
        XCTAssertThrowsError(try StageBuilder.build(recipe)) { error in
            XCTAssertTrue("\(error)".contains("run the more stage first"), "\(error)")
        }

        for url in [first, more] {
            let t = try Trainer(recipe: try Recipe.load(url))
            t.quiet = true
            _ = try t.run()
        }
        let stage = try StageBuilder.build(recipe)
        let key = "decoder.vae.decoder.conv_in.weight"
        let loaded = try XCTUnwrap(stage.model.stateDict()[key]).toArray()
        let moreFinal = URL(fileURLWithPath: root + "/more/final.h5")
        XCTAssertEqual(loaded, try Checkpoint.readTensor(key, from: moreFinal).toArray())
        XCTAssertNotEqual(
            loaded,
            try Checkpoint.readTensor(key, from: URL(fileURLWithPath: root + "/vae/final.h5"))
                .toArray(), "the named run trained on from vae's weights")
    }

    /// A value with a slash or ending in .h5 is a file: it must exist when the recipe is read.
    func testAFileInitMustExist() throws {
        let text = TinyRecipes.text("vae", root: dir.path).replacingOccurrences(
            of: TinyRecipes.vae,
            with: "vae: {init: weights.h5}")
        XCTAssertThrowsError(try Recipe.load(try write("bad", text))) { error in
            XCTAssertTrue("\(error)".contains("checkpoint file 'weights.h5' does not exist"), "\(error)")
        }
    }
}
