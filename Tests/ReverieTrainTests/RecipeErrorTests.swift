import Foundation
import ReverieRuntime
import ReverieTrain
import XCTest

/// Bad recipes fail before training with file:line, the key, and (for typos) the nearest valid key.
final class RecipeErrorTests: XCTestCase {
    func parse(_ yaml: String) throws -> Recipe {
        try Recipe(node: RecipeNode.parse(yaml: yaml, file: "r.yaml"))
    }

    func error(_ yaml: String, overrides: [String] = []) -> RecipeError? {
        do {
            var node = try RecipeNode.parse(yaml: yaml, file: "r.yaml")
            for o in overrides { try node.override(o) }
            _ = try Recipe(node: node)
            return nil
        } catch let e as RecipeError {
            return e
        } catch {
            XCTFail("unexpected \(error)")
            return nil
        }
    }

    let vae = """
        stage: vae
        seed: 3
        model:
          vae: {channels: [16, 32], latent_channels: 4}
        optim:
          lr: 1e-3
        train:
          steps: 10
          batch: 4
        """

    func testValidRecipeReadsEveryValue() throws {
        let r = try parse(vae)
        XCTAssertEqual(r.stage, .vae)
        XCTAssertEqual(r.seed, 3)
        XCTAssertEqual(r.parts.vae?.channels, [16, 32])
        XCTAssertEqual(r.optim.lr, 1e-3)
        XCTAssertEqual(r.loop.steps, 10)
        XCTAssertEqual(r.loop.batch, 4)
        XCTAssertEqual(r.output, "runs/shapes/vae")
    }

    func testUnknownKeyNamesLineAndNearestKey() {
        let e = error(vae.replacingOccurrences(of: "  lr: 1e-3", with: "  lrr: 1e-3"))
        XCTAssertEqual(e?.line, 6)
        XCTAssertEqual(e?.key, "optim.lrr")
        XCTAssertTrue(e?.message.contains("did you mean 'lr'") ?? false, e?.description ?? "")
        XCTAssertEqual(e?.description.hasPrefix("r.yaml:6: optim.lrr: unknown key"), true)
    }

    func testUnknownPartAndTopLevelKey() {
        XCTAssertEqual(
            error(vae.replacingOccurrences(of: "  vae:", with: "  vea:"))?.message
                .contains("did you mean 'vae'"), true)
        XCTAssertEqual(error(vae + "\ntrian: {steps: 3}\n")?.key, "trian")
    }

    func testWrongTypesAndRanges() {
        XCTAssertEqual(error(vae.replacingOccurrences(of: "steps: 10", with: "steps: ten"))?.key, "train.steps")
        XCTAssertEqual(
            error(vae.replacingOccurrences(of: "steps: 10", with: "steps: \"10\""))?.message,
            "must be an integer")
        XCTAssertEqual(error(vae.replacingOccurrences(of: "lr: 1e-3", with: "lr: -1"))?.key, "optim.lr")
        XCTAssertEqual(
            error(vae.replacingOccurrences(of: "[16, 32]", with: "[16, x]"))?.key,
            "model.vae.channels[1]")
        XCTAssertEqual(
            error(vae.replacingOccurrences(of: "stage: vae", with: "stage: vea"))?.message
                .contains("did you mean 'vae'"), true)
        XCTAssertEqual(error(vae + "\neval: {every: 5, keep_threshold: -0.1}\n")?.key, "eval.keep_threshold")
        XCTAssertEqual(try parse(vae + "\neval: {every: 5, keep_threshold: 0.25}\n").eval.drawing.keepThreshold, 0.25)
    }

    func testStageNeedsItsParts() {
        let e = error(vae.replacingOccurrences(of: "stage: vae", with: "stage: decoder"))
        XCTAssertEqual(e?.key, "model")
        XCTAssertTrue(e?.message.contains("needs a 'vision' part") ?? false)
    }

    func testMissingInitFileIsAnError() {
        let e = error(
            vae.replacingOccurrences(
                of: "{channels: [16, 32], latent_channels: 4}",
                with: "{init: nowhere/model.h5}"))
        XCTAssertEqual(e?.key, "model.vae.init")
        XCTAssertEqual(e?.line, 4)
    }

    func testBadTokenizerAndModelOptions() throws {
        let mllm = """
            stage: mllm
            model:
              vision: {hidden: 16, layers: 1, heads: 2}
              vae: {channels: [8, 8], norm_groups: 4}
              unet: {channels: [16], norm_groups: 4, condition_tokens: 4}
              projector: {type: mlp}
              llm: {hidden: 32, heads: 2, kv_heads: 1}
              output: {mode: queries}
            loss: {ce: 1}
            """
        let missing = error(mllm, overrides: ["model.llm.tokenizer=nowhere/tokenizer.json"])
        XCTAssertEqual(missing?.key, "model.llm.tokenizer")
        XCTAssertEqual(missing?.message.contains("nowhere/tokenizer.json"), true)
        XCTAssertEqual(error(mllm, overrides: ["model.llm.vocab=100"])?.key, "model.llm.vocab")  // < 260 bytes
        XCTAssertEqual(error(mllm, overrides: ["model.projector.positions=sine"])?.key, "model.projector.positions")
        XCTAssertEqual(
            error(mllm, overrides: ["model.output={mode: autoregressive, residual: true}"])?.key,
            "model.output.residual")
        XCTAssertEqual(error(mllm, overrides: ["loss.object_weight=-1"])?.key, "loss.object_weight")
        XCTAssertEqual(error(mllm, overrides: ["loss.patch_labels=-1"])?.key, "loss.patch_labels")
        XCTAssertEqual(error(mllm, overrides: ["loss.patch_head=frozen"])?.key, "loss.patch_head")
        XCTAssertEqual(error(mllm, overrides: ["loss.patch_colors=-2"])?.key, "loss.patch_colors")
        XCTAssertNil(error(mllm, overrides: ["loss.object_weight=4", "model.output.residual=true"]))
        XCTAssertEqual(
            error(mllm, overrides: ["model.output={mode: autoregressive, source_queries: true}"])?.key,
            "model.output.source_queries")
        XCTAssertNil(error(mllm, overrides: ["model.output.source_queries=true"]))
        // The change loss needs the change head, which needs the queries mode.
        XCTAssertEqual(
            error(mllm, overrides: ["loss.change=1"])?.message,
            "the change loss needs model.output.change_head: true")
        XCTAssertEqual(
            error(mllm, overrides: ["model.output={mode: autoregressive, change_head: true}"])?.key,
            "model.output.change_head")
        XCTAssertEqual(error(mllm, overrides: ["loss.change=-1", "model.output.change_head=true"])?.key, "loss.change")
        XCTAssertNil(error(mllm, overrides: ["loss.change=1", "model.output.change_head=true"]))
        // The change shortfall measures an edit's change from its source: it needs residual output.
        XCTAssertEqual(
            error(mllm, overrides: ["loss.change_shortfall=1"])?.message,
            "the change shortfall needs model.output.residual: true")
        XCTAssertEqual(
            error(mllm, overrides: ["loss.change_shortfall=-1", "model.output.residual=true"])?.key,
            "loss.change_shortfall")
        XCTAssertNil(error(mllm, overrides: ["loss.change_shortfall=0.5", "model.output.residual=true"]))
        XCTAssertEqual(error(mllm, overrides: ["loss.shape_probe=-1"])?.key, "loss.shape_probe")
        XCTAssertNil(error(mllm, overrides: ["loss.shape_probe=0.5"]))
        XCTAssertEqual(error(mllm, overrides: ["loss.smooth_l1_beta=0"])?.key, "loss.smooth_l1_beta")
        XCTAssertNil(error(mllm, overrides: ["loss.regression_kind=smooth_l1", "loss.smooth_l1_beta=0.05"]))
        XCTAssertEqual(error(mllm, overrides: ["eval.keep_grow=-1"])?.key, "eval.keep_grow")
        XCTAssertEqual(
            error(mllm, overrides: ["data.edit_pairs=0.5"])?.message,
            "the mllm stage does not read it; only the decoder stage reads it")
        // Edit kinds: EditKind names (a typo names the nearest), weights ≥ 0 with one positive.
        let typo = error(mllm, overrides: ["data.edit_kinds={recolour: 2}"])
        XCTAssertEqual(typo?.key, "data.edit_kinds.recolour")
        XCTAssertEqual(typo?.message.contains("did you mean 'recolor'"), true, typo?.message ?? "")
        XCTAssertEqual(error(mllm, overrides: ["data.edit_kinds={recolor: -1, move: 1}"])?.key, "data.edit_kinds")
        XCTAssertEqual(error(mllm, overrides: ["data.edit_kinds={recolor: 0}"])?.key, "data.edit_kinds")
        var weighted = try RecipeNode.parse(yaml: mllm, file: "r.yaml")
        try weighted.override("data.edit_kinds={move: 1, recolor: 2}")
        let source = try Recipe(node: weighted).data.sources[0].config as? ShapesSource.Config
        let kinds = try XCTUnwrap(source).editKinds.pairs
        XCTAssertEqual(kinds.map(\.0), ["recolor", "move"])  // in EditKind order
        XCTAssertEqual(kinds.map(\.1), [2, 1])
    }

    func testEditPairsNeedASourceLatent() throws {
        let decoder = """
            stage: decoder
            data: {edit_pairs: 0.5}
            model:
              vision: {hidden: 16, layers: 1, heads: 2}
              vae: {channels: [8, 8], norm_groups: 4}
              unet: {channels: [16], norm_groups: 4, condition_tokens: 4}
            """
        let e = error(decoder)
        XCTAssertEqual(e?.key, "data.edit_pairs")
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(e?.message.contains("source_latent"), true)
        XCTAssertNil(error(decoder, overrides: ["model.unet.source_latent=true"]))
        XCTAssertEqual(error(decoder, overrides: ["data.edit_pairs=1.5"])?.key, "data.edit_pairs")
        XCTAssertEqual(
            error(decoder, overrides: ["model.unet.source_latent=true", "loss.timestep_power=0"])?.key,
            "loss.timestep_power")
        XCTAssertNil(error(decoder, overrides: ["model.unet.source_latent=true", "loss.timestep_power=2"]))
        XCTAssertEqual(
            error(decoder, overrides: ["model.unet.source_latent=true", "loss.shape_probe=1"])?.message,
            "not a loss of the decoder stage; only the mllm stage has it")
        // spatial_injection: a boolean, off unless asked for.
        XCTAssertEqual(
            error(decoder, overrides: ["data.edit_pairs=0", "model.unet.spatial_injection=7"])?.key,
            "model.unet.spatial_injection")
        var node = try RecipeNode.parse(yaml: decoder, file: "r.yaml")
        try node.override("data.edit_pairs=0")
        XCTAssertEqual(try Recipe(node: node).parts.unet?.spatialInjection, false)
        try node.override("model.unet.spatial_injection=true")
        XCTAssertEqual(try Recipe(node: node).parts.unet?.spatialInjection, true)
    }

    func testNameSetsTheRunDirectoryAndMustBePlain() throws {
        let vae = """
            stage: vae
            name: a/b
            root: runs/x
            model:
              vae: {channels: [8, 8], norm_groups: 4}
            """
        XCTAssertEqual(error(vae)?.key, "name")
        XCTAssertEqual(error(vae)?.line, 2)
        XCTAssertEqual(error(vae, overrides: ["name=.."])?.key, "name")
        var node = try RecipeNode.parse(yaml: vae, file: "r.yaml")
        try node.override("name=vae-small")
        XCTAssertEqual(try Recipe(node: node).output, "runs/x/vae-small")
        XCTAssertEqual(error(vae, overrides: ["name=vae", "loss.diffusion_exact=1.5"])?.key, "loss.diffusion_exact")
    }

    func testOverridesReplaceAndAdd() throws {
        var node = try RecipeNode.parse(yaml: vae, file: "r.yaml")
        try node.override("optim.lr=5e-4")
        try node.override("train.accumulate=2")
        try node.override("model.vae={channels: [8], norm_groups: 4}")
        let r = try Recipe(node: node)
        XCTAssertEqual(r.optim.lr, 5e-4)
        XCTAssertEqual(r.loop.accumulate, 2)
        XCTAssertEqual(r.parts.vae?.channels, [8])
        // The resolved recipe round-trips through YAML.
        let again = try Recipe(node: RecipeNode.parse(yaml: r.resolvedYAML, file: "again.yaml"))
        XCTAssertEqual(again.parts, r.parts)
        XCTAssertEqual(again.optim, r.optim)
        XCTAssertEqual(
            error(vae, overrides: ["optim.lrr=1"])?.description,
            "--set optim.lrr: optim.lrr: unknown key; did you mean 'lr'?")
    }

    /// `--set model.<part>.init=…` replaces the part's map (a part from a checkpoint takes no other options); it
    /// used to merge `init` into the built part's options and fail.
    func testSettingAPartsInitReplacesItsOptions() throws {
        var node = try RecipeNode.parse(yaml: vae, file: "r.yaml")
        try node.override("model.vae.init=vae")
        let r = try Recipe(node: node)
        guard case let .checkpoint(path, run, _)? = r.sources[.vae] else { return XCTFail("\(r.sources)") }
        XCTAssertEqual(run, "vae")
        XCTAssertTrue(path.hasSuffix("vae/final.h5"), path)
        XCTAssertNil(r.parts.vae)
        // Other keys of a part still merge.
        var merged = try RecipeNode.parse(yaml: vae, file: "r.yaml")
        try merged.override("model.vae.norm_groups=4")
        XCTAssertEqual(try Recipe(node: merged).parts.vae?.channels, [16, 32])
    }

    func testYAMLSyntaxErrorHasALine() {
        let e = error("stage: vae\nmodel:\n  vae: {channels: [16\n")
        XCTAssertNotNil(e?.line)
        XCTAssertTrue(e?.message.hasPrefix("invalid YAML") ?? false)
    }

    /// A pipeline's stage paths are relative to the pipeline file, or absolute.
    func testPipelineStagePathsRelativeOrAbsolute() throws {
        let yaml = "stages: [siglip.yaml, /elsewhere/vae.yaml, {recipe: sub/mllm.yaml, set: {train.steps: 3}}]\n"
        let pipeline = try PipelineRecipe(node: RecipeNode.parse(yaml: yaml, file: "/work/p/pipe.yaml"))
        XCTAssertEqual(
            pipeline.stages.map(\.recipe.path),
            [
                "/work/p/siglip.yaml", "/elsewhere/vae.yaml",
                "/work/p/sub/mllm.yaml",
            ])
        XCTAssertEqual(pipeline.stages[2].overrides, ["train.steps=3"])
    }
}
