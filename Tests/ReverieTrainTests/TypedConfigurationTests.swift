import Foundation
import ReverieCore
import ReverieDiffusion
import ReverieMultimodal
import ReverieProjectors
import ReverieRuntime
import ReverieTestSupport
import ReverieTrain
import XCTest

/// Recipe sections decode into the typed values the code uses, with file:line errors; the stored `model_config` is
/// the same typed value, and checkpoints of the older layout still read.
final class TypedConfigurationTests: XCTestCase {
    func decode<T: Decodable>(_ type: T.Type, _ yaml: String, path: String = "model.x") throws -> T {
        try RecipeDecoder.decode(T.self, from: RecipeNode.parse(yaml: yaml, file: "r.yaml"), path: path)
    }

    func error<T: Decodable>(_ type: T.Type, _ yaml: String) -> RecipeError? {
        do {
            _ = try decode(T.self, yaml)
            return nil
        } catch {
            return error as? RecipeError
        }
    }

    func testValuesAndDefaults() throws {
        let u = try decode(UNetPart.self, "channels: [32, 64]\nprediction: sample\nsource_latent: yes\n")
        XCTAssertEqual(u.channels, [32, 64])
        XCTAssertEqual(u.prediction, .sample)
        XCTAssertTrue(u.sourceLatent)
        XCTAssertEqual(u.normGroups, UNetPart().normGroups)  // absent: the type's own default
        XCTAssertEqual(try decode(VisionPart.self, "{}"), VisionPart())
        var v = VisionPart()
        (v.imageSize, v.patch) = (512, 8)  // 4096 patches: the most allowed
        XCTAssertNoThrow(try v.validate())
        v.patch = 4  // 16 384 patches: attention over them would not fit
        XCTAssertThrowsError(try v.validate()) { XCTAssertTrue("\($0)".contains("at most 4096"), "\($0)") }
    }

    /// The `llm:` section carries everything a Llama config.json sets that changes the maths.
    func testTheLLMSectionDescribesARealLlama() throws {
        let yaml = """
            hidden: 64
            heads: 4
            kv_heads: 2
            head_dim: 24
            rope_theta: 500000
            rope_scaling: {rope_type: llama3, factor: 8, low_freq_factor: 1, high_freq_factor: 4,
                           original_max_position_embeddings: 32}
            rms_norm_eps: 1e-5
            tie_word_embeddings: true
            attention_bias: true
            mlp_bias: true
            """
        let part = try decode(LLMPart.self, yaml)
        let config = part.llamaConfig
        XCTAssertEqual(config.headDim, 24)
        XCTAssertEqual(config.ropeTheta, 500_000)
        XCTAssertEqual(
            config.ropeScaling,
            .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalMaxPositions: 32))
        XCTAssertEqual(config.rmsNormEps, 1e-5)
        XCTAssertTrue(config.tieWordEmbeddings && config.attentionBias && config.mlpBias)
        let stored = try JSONDecoder().decode(LLMPart.self, from: JSONEncoder().encode(part))
        XCTAssertEqual(stored, part)
        let dynamic = try decode(LLMPart.self, "max_positions: 64\nrope_scaling: {rope_type: dynamic, factor: 2}")
        XCTAssertEqual(dynamic.llamaConfig.ropeScaling, .dynamic(factor: 2, maxPositions: 64))
        XCTAssertEqual(
            error(LLMPart.self, "rope_scaling: {rope_type: yarn, factor: 4}")?.key, "model.x.rope_scaling.rope_type")
        XCTAssertEqual(error(LLMPart.self, "head_dim: 7")?.key, "model.x.head_dim")
    }

    func testErrorsNameFileLineAndKey() {
        let typo = error(UNetPart.self, "channels: [32, 64]\nchanels: [8]\n")
        XCTAssertEqual(typo?.key, "model.x.chanels")
        XCTAssertEqual(typo?.line, 2)
        XCTAssertEqual(typo?.file, "r.yaml")
        XCTAssertTrue(typo?.message.contains("did you mean 'channels'") ?? false, "\(String(describing: typo))")
        let quoted = error(VisionPart.self, "hidden: \"64\"\n")
        XCTAssertEqual(quoted?.key, "model.x.hidden")
        XCTAssertEqual(quoted?.message, "must be an integer")
        let choice = error(UNetPart.self, "\nprediction: sampel\n")
        XCTAssertEqual(choice?.line, 2)
        XCTAssertTrue(choice?.message.contains("did you mean 'sample'") ?? false, "\(String(describing: choice))")
        // A check of the whole value lands on its key's line.
        let groups = error(VAEPart.self, "channels: [16, 32]\n\nnorm_groups: 5\n")
        XCTAssertEqual(groups?.key, "model.x.norm_groups")
        XCTAssertEqual(groups?.line, 3)
        let list = error(VAEPart.self, "channels: [16, x]\n")
        XCTAssertEqual(list?.key, "model.x.channels[1]")
        // Sizes are bounded before anything is reserved.
        XCTAssertEqual(error(VisionPart.self, "hidden: 1000000000\n")?.key, "model.x.hidden")
        XCTAssertEqual(error(UNetPart.self, "norm_groups: 0\n")?.key, "model.x.norm_groups")
    }

    /// Projector options are the kind's own typed value: a wrong option is an error at its file and line (it used
    /// to carry neither), and integers are integers, not guessed from doubles.
    func testProjectorOptionsAreTypedAndLocated() throws {
        let p = try decode(ProjectorPart.self, "type: qformer\nqueries: 16\ndepth: 3\npositions: token\n")
        let options = try XCTUnwrap(p.options as? QFormerProjector.Options)
        XCTAssertEqual(options.queries, 16)
        XCTAssertEqual(options.depth, 3)
        XCTAssertEqual(p.positions, .token)
        let typo = error(ProjectorPart.self, "type: qformer\n\nqueires: 16\n")
        XCTAssertEqual(typo?.key, "model.x.queires")
        XCTAssertEqual(typo?.line, 3)
        XCTAssertTrue(typo?.message.contains("did you mean 'queries'") ?? false, "\(String(describing: typo))")
        let fraction = error(ProjectorPart.self, "type: qformer\nqueries: 2.5\n")
        XCTAssertEqual(fraction?.key, "model.x.queries")
        XCTAssertEqual(fraction?.line, 2)
        let zero = error(ProjectorPart.self, "type: mlp\ndepth: 0\n")
        XCTAssertEqual(zero?.key, "model.x.depth")
        XCTAssertEqual(zero?.line, 2)
        let kind = error(ProjectorPart.self, "type: qformr\n")
        XCTAssertEqual(kind?.key, "model.x.type")
        XCTAssertEqual(kind?.line, 1)
    }

    /// In a recipe, a projector whose options do not fit the other parts is refused at its line.
    func testProjectorOptionsAgainstOtherPartsInARecipe() throws {
        let yaml = """
            stage: mllm
            model:
              vision: {hidden: 16, layers: 1, heads: 2}
              vae: {channels: [8, 8], norm_groups: 4}
              unet: {channels: [16], norm_groups: 4, condition_tokens: 4}
              projector: {type: pool,
                          grid: 3}
              llm: {hidden: 32, heads: 2, kv_heads: 1}
              output: {mode: queries}
            """
        XCTAssertThrowsError(try Recipe(node: RecipeNode.parse(yaml: yaml, file: "r.yaml"))) { error in
            let e = error as? RecipeError
            XCTAssertEqual(e?.key, "model.projector.grid")
            XCTAssertEqual(e?.line, 7)
        }
    }

    /// The shipped model's `model_config` was written before the typed layout (projector options nested,
    /// `spatial` for `spatial_conditioning`, options added later absent): it reads as the values it was trained
    /// with, and writes back in the new layout, which reads to the same value.
    func testOlderModelConfigLayoutsRead() throws {
        let legacy = """
            {"format":"reverie-model","parts":{"llm":{"heads":4,"hidden":128,"intermediate":256,"kv_heads":2,\
            "layers":3,"max_positions":512,"tokenizer":"bytes","vocab":463},"output":{"head":"mlp","head_hidden":256,\
            "mode":"queries","residual":true},"projector":{"options":{"queries":16,"depth":2},"positions":"token",\
            "string_options":{},"type":"qformer"},"unet":{"attention":[false,true,true],"beta_schedule":\
            "scaled_linear","channels":[32,64,128],"condition_tokens":64,"heads":4,"layers_per_block":1,\
            "norm_groups":8,"null":"learned","prediction":"sample","spatial":true,"train_timesteps":1000},\
            "vision":{"heads":4,"hidden":64,"image_size":64,"intermediate":128,"layers":2,"patch":8}},\
            "stage":"mllm"}
            """
        let record = try ModelConfigRecord.decode(legacy, file: "old.h5")
        XCTAssertEqual(record.stage, "mllm")
        XCTAssertTrue(record.parts.unet?.spatialConditioning ?? false)
        XCTAssertFalse(record.parts.unet?.sourceLatent ?? true)
        XCTAssertFalse(record.parts.output?.changeHead ?? true)
        XCTAssertEqual((record.parts.projector?.options as? QFormerProjector.Options)?.queries, 16)
        let again = try ModelConfigRecord.decode(record.json(), file: "new.h5")
        XCTAssertEqual(again, record)
        XCTAssertFalse(try record.json().contains("string_options"))
        XCTAssertTrue(try record.json().contains("\"spatial_conditioning\":true"))
    }

    func testABadStoredConfigurationNamesTheFileAndKey() {
        let bad = #"{"format":"reverie-model","stage":"vae","parts":{"vae":{"channels":[16],"norm_groups":0}}}"#
        XCTAssertThrowsError(try ModelConfigRecord.decode(bad, file: "x.h5")) { error in
            XCTAssertEqual("\(error)", "x.h5: model_config: parts.vae.norm_groups: must be in 1...65536, got 0")
        }
        XCTAssertThrowsError(try ModelConfigRecord.decode(#"{"parts": 3}"#, file: "y.h5")) { error in
            XCTAssertTrue("\(error)".hasPrefix("y.h5: model_config is not a Reverie model configuration"), "\(error)")
        }
    }

    /// Samplers by name or with options, in a recipe's eval section as on the command line.
    func testSamplersDecodeByNameOrWithOptions() throws {
        let byName = try decode(EvalSpec.self, "every: 5\nsampler: euler\nsample_steps: 4\n", path: "eval")
        XCTAssertEqual(byName.drawing.sampler.kind, "euler")
        XCTAssertEqual(byName.drawing.steps, 4)
        let withOptions = try decode(EvalSpec.self, "sampler: {type: ddim, eta: 0.5}\n", path: "eval")
        XCTAssertEqual((withOptions.drawing.sampler.config as? DDIMSampler.Config)?.eta, 0.5)
        XCTAssertEqual(try decode(EvalSpec.self, "{}", path: "eval").drawing.sampler.kind, "ddim")
        let unknown = error(EvalSpec.self, "\nsampler: dpm\n")
        XCTAssertEqual(unknown?.line, 2)
        XCTAssertTrue(unknown?.message.contains("unknown sampler 'dpm'") ?? false, "\(String(describing: unknown))")
        XCTAssertEqual(error(EvalSpec.self, "sampler: {type: ddim, eta: 2}\n")?.key, "model.x.sampler.eta")
    }

    /// A pipeline's --set of a part's option reaches the stages that build the part, others every stage; an
    /// override no stage takes is an error.
    func testPipelineOverridesReachTheStagesThatHaveThePart() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = try TinyRecipes.writePipeline(in: dir)
        let (_, stages) = try PipelineRecipe.load(url, overrides: ["model.llm.heads=4", "optim.lr=0.01"])
        for stage in stages {
            XCTAssertEqual(stage.optim.lr, 0.01, stage.name)
            XCTAssertEqual(stage.parts.llm?.heads, stage.name == "mllm" ? 4 : nil, stage.name)
        }
        XCTAssertThrowsError(try PipelineRecipe.load(url, overrides: ["model.llm.heads=5"])) { error in
            XCTAssertTrue("\(error)".contains("mllm.yaml"), "\(error)")  // which stage's recipe it broke
        }
        XCTAssertThrowsError(try PipelineRecipe.load(url, overrides: ["model.nothing.x=1"])) { error in
            XCTAssertTrue("\(error)".contains("no stage of"), "\(error)")
        }
    }

    /// A tokenizer path in a recipe file is relative to that file, so a recipe validates from any directory.
    func testTokenizerPathIsRelativeToTheRecipeFile() throws {
        let dir = try TinyRecipes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try TinyRecipes.writeTokenizer(root: dir.appendingPathComponent("sub").path)
        let yaml = """
            stage: mllm
            model:
              vision: {hidden: 16, layers: 1, heads: 2}
              vae: {channels: [8, 8], norm_groups: 4}
              unet: {channels: [16], norm_groups: 4, condition_tokens: 4}
              projector: {type: mlp}
              llm: {hidden: 32, heads: 2, kv_heads: 1, tokenizer: sub/tokenizer.json}
              output: {mode: queries}
            """
        let url = dir.appendingPathComponent("r.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        let r = try Recipe.load(url)
        XCTAssertEqual(r.parts.llm?.tokenizer, "bpe")
        XCTAssertEqual(r.parts.llm?.vocab, 320)
        // Given by --set, the path is relative to the working directory, where sub/ does not exist.
        XCTAssertThrowsError(try Recipe.load(url, overrides: ["model.llm.tokenizer=sub/tokenizer.json"])) { error in
            XCTAssertEqual((error as? RecipeError)?.key, "model.llm.tokenizer")
        }
    }

    /// A new sampler is one type and one registration line; it then decodes from recipes and draws.
    func testAToySamplerRegistersInOneLine() throws {
        SamplerRegistry.register(ToySamplerConfig.self)
        defer { SamplerRegistry.shared.unregister(ToySamplerConfig.kind) }
        let spec = try decode(EvalSpec.self, "sampler: {type: toy, steps_scale: 2}\n", path: "eval").drawing.sampler
        XCTAssertEqual(spec.kind, "toy")
        let schedule = try NoiseSchedule(trainTimesteps: 100)
        let sampler = try spec.config.sampler(schedule: schedule, prediction: .epsilon, steps: 3)
        XCTAssertEqual(sampler.stepCount, 6)
    }
}

/// The toy sampler of `testAToySamplerRegistersInOneLine`: DDIM with `steps_scale` times the steps asked for.
struct ToySamplerConfig: SamplerConfig {
    static let kind = "toy"
    var stepsScale = 1

    enum CodingKeys: String, CodingKey { case stepsScale = "steps_scale" }

    init() {}
    init(from decoder: Decoder) throws {
        try decoder.container(keyedBy: CodingKeys.self).update(&stepsScale, .stepsScale)
    }

    func sampler(schedule: NoiseSchedule, prediction: PredictionType, steps: Int) throws -> any Sampler {
        try DDIMSampler(schedule: schedule, steps: steps * stepsScale, prediction: prediction)
    }
}
