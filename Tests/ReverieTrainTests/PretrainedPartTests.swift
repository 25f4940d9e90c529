import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieIO
import ReverieLanguage
import ReverieMultimodal
import ReverieRuntime
import ReverieTestSupport
import ReverieVision
import XCTest

@testable import ReverieMultimodal
@testable import ReverieTrain

/// `init: hf:DIR`: a part starts from a Hugging Face directory (a random-init LlamaForCausalLM made by
/// transformers, with a Llama-3 style tokenizer.json made by tokenizers), converted on the fly.
final class PretrainedPartTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try TinyRecipes.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// The gqa_untied Llama (vocabulary 128) with the llama3-layout tokenizer (901 ids) beside it.
    func writeLlama() throws -> URL {
        let llama = dir.appendingPathComponent("llama")
        try FileManager.default.createDirectory(at: llama, withIntermediateDirectories: true)
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(
                at: Self.fixtures.appendingPathComponent("llama/gqa_untied/\(file)"),
                to: llama.appendingPathComponent(file))
        }
        try FileManager.default.copyItem(
            at: Self.fixtures.appendingPathComponent("tokenizer_layouts/llama3.json"),
            to: llama.appendingPathComponent("tokenizer.json"))
        return llama
    }

    func recipe(llm: String, steps: Int = 4, freeze: String = "vision, vae, unet") throws -> URL {
        let yaml = """
            stage: mllm
            root: \(dir.appendingPathComponent("runs").path)
            data: {world_seed: 5, mixture: {caption: 1}}
            model:
              vision: {hidden: 16, intermediate: 32, layers: 1, heads: 2, image_size: 64, patch: 16}
              vae: {channels: [8, 8], latent_channels: 4, norm_groups: 4}
              unet: {channels: [16], heads: 2, norm_groups: 4, condition_tokens: 4, train_timesteps: 100}
              projector: {type: mlp}
              llm: \(llm)
              output: {mode: queries, head_hidden: 32}
            freeze: [\(freeze)]
            optim: {lr: 3e-3, warmup: 1}
            train: {steps: \(steps), batch: 2, log_every: 1}
            """
        let url = dir.appendingPathComponent("r.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testAPretrainedLlamaTrainsWithItsTokenizerAndGrownVocabulary() throws {
        _ = try writeLlama()
        let r = try Recipe.load(recipe(llm: "{init: hf:llama}"))
        let parts = try StageBuilder.resolveParts(r)
        let llm = try XCTUnwrap(parts.llm)
        XCTAssertEqual(llm.hidden, 64)
        XCTAssertEqual(llm.kvHeads, 2)
        XCTAssertEqual(llm.tokenizer, "bpe")
        XCTAssertEqual(llm.vocab, 906)  // 901 tokenizer ids + Reverie's five special tokens
        let tokenizer = try XCTUnwrap(try llm.textEncoder() as? TokenizerTextEncoder)
        XCTAssertEqual(tokenizer.ids.image, 901)
        XCTAssertEqual(
            tokenizer.tokenizer.encode("I'M 12345"),
            try Tokenizer(
                contentsOf: Self.fixtures.appendingPathComponent("tokenizer_layouts/llama3.json")
            ).encode("I'M 12345"))

        // Every sequence starts with the tokenizer's template start, <|begin_of_text|> (id 0 of this layout's
        // 901), never a target; ShapesWorld's own tokenizer has none.
        XCTAssertEqual(tokenizer.sequencePrefix, [tokenizer.tokenizer.encode("x", addSpecialTokens: true)[0]])
        var rng = RNG(seed: 1)
        let model = try ModelAssembly.multimodal(parts, rng: &rng)
        XCTAssertEqual(model.config.prefixTokenIds, tokenizer.sequencePrefix)
        let caption = MultimodalExample(
            tokens: [901, 5, 6], lossMask: [0, 1, 1], inputImages: [Tensor(zeros: [3, 64, 64])])
        let elements = try model.sequenceEmbeddings(caption).1
        XCTAssertEqual(elements.count, model.expandedLength(tokens: caption.tokens))
        XCTAssertEqual(elements.first, .token(tokenizer.sequencePrefix[0], loss: false))
        XCTAssertEqual(try LLMPart().textEncoder().sequencePrefix, [])
        XCTAssertEqual(
            try TokenizerTextEncoder(
                Tokenizer(
                    contentsOf: Self.fixtures.deletingLastPathComponent().deletingLastPathComponent()
                        .appendingPathComponent("recipes/shapes/tokenizer.json"))
            ).sequencePrefix, [])

        // The pretrained weights arrive under the llm keys, the new embedding rows at the mean of the old ones.
        let stage = try StageBuilder.build(r)
        let state = stage.model.stateDict()
        let hf = try LanguageModel.convertHuggingFace(directory: dir.appendingPathComponent("llama")).model
        let embed = try XCTUnwrap(state["llm.model.embed_tokens.weight"])
        XCTAssertEqual(embed.shape, [906, 64])
        let pretrained = try XCTUnwrap(hf["model.embed_tokens.weight"])
        XCTAssertEqual(Array(embed.toArray()[0..<(128 * 64)]), pretrained.toArray())
        let mean = try pretrained.mean(axis: 0).toArray()
        for (a, b) in zip(embed.toArray()[(200 * 64)..<(201 * 64)], mean) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(
            try XCTUnwrap(state["llm.model.layers.1.mlp.down_proj.weight"]).toArray(),
            try XCTUnwrap(hf["model.layers.1.mlp.down_proj.weight"]).toArray())

        let trainer = try Trainer(recipe: r)
        trainer.quiet = true
        let losses = try trainer.run().losses
        XCTAssertEqual(losses.count, 4)
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")

        // Exported back: a LlamaForCausalLM directory with the trained tensors and the grown tokenizer.
        let final = dir.appendingPathComponent("runs/mllm/final.h5")
        let out = dir.appendingPathComponent("export")
        _ = try PartExport.llama.write(final, out)
        let trained = try Checkpoint.readModel(from: final, prefix: "llm")
        let exported = try LanguageModel.load(huggingFaceDirectory: out)
        var compared = 0
        for (key, tensor, _) in exported.namedTensors() {
            XCTAssertEqual(tensor.toArray(), try XCTUnwrap(trained[key], key).toArray(), key)
            compared += 1
        }
        XCTAssertEqual(compared, trained.count)
        XCTAssertNotEqual(
            trained["model.layers.0.self_attn.q_proj.weight"]?.toArray(),
            hf["model.layers.0.self_attn.q_proj.weight"]?.toArray())
        let reloaded = try Tokenizer(contentsOf: out.appendingPathComponent("tokenizer.json"))
        XCTAssertEqual(reloaded.vocabularySize, 906)
        XCTAssertEqual(reloaded.encode("<image> I'M 12345"), tokenizer.tokenizer.encode("<image> I'M 12345"))
    }

    /// A converted Llama exported again gives transformers' logits (the fixture's reference) from the new directory.
    func testAConvertedLlamaExportsToADirectoryWithTransformersLogits() throws {
        let source = Self.fixtures.appendingPathComponent("llama/rope_llama3")
        let converted = dir.appendingPathComponent("llama.h5")
        try LanguageModel.convertHuggingFace(directory: source).write(to: converted)
        let out = dir.appendingPathComponent("export")
        _ = try PartExport.llama.write(converted, out)
        let model = try LanguageModel.load(huggingFaceDirectory: out)
        XCTAssertEqual(model.config, try LanguageModel.load(huggingFaceDirectory: source).config)
        let reference = try SafetensorsFile(url: source.appendingPathComponent("reference.safetensors"))
        let input = try reference.tensor("input_ids")
        let logits = try withNoGrad {
            try model(ids: input.toArray().map { Int($0) }, shape: input.shape).logits
        }
        let expected = try reference.tensor("logits")
        XCTAssertLessThan(zip(logits.toArray(), expected.toArray()).map { abs($0 - $1) }.max() ?? 1, 1e-4)
    }

    /// LoRA on the pretrained Llama: only the adapters train; the export merges them (and writes PEFT's layout).
    func testLoRATrainsOnlyTheAdaptersAndExportsMerged() throws {
        _ = try writeLlama()
        let r = try Recipe.load(recipe(llm: "{init: hf:llama, lora: {rank: 4, alpha: 8, targets: [q_proj, v_proj]}}"))
        let trainer = try Trainer(recipe: r)
        trainer.quiet = true
        _ = try trainer.run()
        let final = dir.appendingPathComponent("runs/mllm/final.h5")
        let trained = try Checkpoint.readModel(from: final, prefix: "llm")
        let hf = try LanguageModel.convertHuggingFace(directory: dir.appendingPathComponent("llama")).model
        XCTAssertEqual(trained.keys.filter { $0.contains("lora_") }.count, 2 * 2 * 2)  // 2 layers × q, v × A, B
        for (key, tensor) in hf where key != "model.embed_tokens.weight" && key != "lm_head.weight" {
            XCTAssertEqual(try XCTUnwrap(trained[key], key).toArray(), tensor.toArray(), "\(key) changed")
        }
        let b = try XCTUnwrap(trained["model.layers.0.self_attn.q_proj.lora_B.weight"])
        XCTAssertGreaterThan(b.toArray().map(abs).max() ?? 0, 0, "lora_B did not train")

        // Merged on export: the exported model computes what the model with adapters does.
        let out = dir.appendingPathComponent("export")
        let files = try PartExport.llama.write(final, out).map(\.lastPathComponent)
        XCTAssertEqual(
            Set(files),
            ["adapter_config.json", "adapter_model.safetensors", "config.json", "model.safetensors", "tokenizer.json"])
        let exported = try LanguageModel.load(huggingFaceDirectory: out)
        let stored = try ModelConfigRecord.read(final).parts
        var rng = RNG(seed: 0)
        let adapted = try PartBuilding.llm(try XCTUnwrap(stored.llm), rng: &rng)
        try loadStateDict(trained, into: adapted.stateDict(), strict: true, file: final.path)
        let ids = [1, 5, 9, 200, 901, 3, 77, 450]
        let (a, e) = try withNoGrad {
            (
                try adapted(ids: ids, shape: [1, 8]).logits.toArray(),
                try exported(ids: ids, shape: [1, 8]).logits.toArray()
            )
        }
        XCTAssertLessThan(zip(a, e).map { abs($0 - $1) }.max() ?? 1, 1e-4)
        let peft = try SafetensorsFile(url: out.appendingPathComponent("adapter/adapter_model.safetensors"))
        XCTAssertTrue(peft.tensorNames.contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"))
    }

    /// `freeze:` takes key patterns beside whole parts; a pattern matching nothing is an error, not a silent no-op.
    func testFreezePatternsFreezeTheKeysTheyMatch() throws {
        _ = try writeLlama()
        let r = try Recipe.load(
            recipe(
                llm: "{init: hf:llama}",
                freeze: "vision, vae, unet, llm.model.layers.0.*, llm.model.embed_tokens.weight"))
        let parameters = try StageBuilder.build(r).model.namedParameters()
        for (key, p) in parameters where key.hasPrefix("llm.") {
            let frozen = key.hasPrefix("llm.model.layers.0.") || key == "llm.model.embed_tokens.weight"
            XCTAssertEqual(p.requiresGrad, !frozen, key)
        }
        let typo = try Recipe.load(recipe(llm: "{init: hf:llama}", freeze: "llm.model.layer.0.*"))
        XCTAssertThrowsError(try StageBuilder.build(typo)) { error in
            XCTAssertEqual((error as? RecipeError)?.key, "freeze")
            XCTAssertTrue("\(error)".contains("llm.model.layer.0.*"), "\(error)")
        }
    }

    /// The vision encoder from a SigLIP directory and the autoencoder from a diffusers one (random-init, made by
    /// transformers and diffusers) start their stages with exactly the converted weights, and train.
    func testSigLIPVisionAndDiffusersAutoencoderStartTheirStages() throws {
        let siglip = Self.fixtures.appendingPathComponent("siglip/head").path
        let vae = Self.fixtures.deletingLastPathComponent()
            .appendingPathComponent("ReverieDiffusionTests/Fixtures/diffusers/vae_a").path
        let cases: [(stage: String, model: String, prefix: String, converted: [String: Tensor], canvas: Int)] = [
            (
                "siglip",
                "vision: {init: hf:\(siglip)}\n  text: {hidden: 16, intermediate: 32, layers: 1, heads: 2, projection: 16}",
                "vision_encoder.", try VisionEncoder.convertHuggingFace(directory: URL(fileURLWithPath: siglip)).model,
                16
            ),
            (
                "vae", "vae: {init: hf:\(vae)}", "decoder.vae.",
                try DiffusersImport.convert(directory: URL(fileURLWithPath: vae)).model, 32
            ),
        ]
        for c in cases {
            let yaml = """
                stage: \(c.stage)
                root: \(dir.appendingPathComponent("runs").path)
                data: {world_seed: 5, canvas: \(c.canvas)}
                model:
                  \(c.model)
                optim: {lr: 1e-3, warmup: 1}
                train: {steps: 3, batch: 2, log_every: 1}
                """
            let url = dir.appendingPathComponent("\(c.stage).yaml")
            try yaml.write(to: url, atomically: true, encoding: .utf8)
            let r = try Recipe.load(url)
            let state = try StageBuilder.build(r).model.stateDict()
            var compared = 0
            for (key, tensor) in c.converted where !key.hasPrefix("head.") {
                XCTAssertEqual(try XCTUnwrap(state[c.prefix + key], key).toArray(), tensor.toArray(), key)
                compared += 1
            }
            XCTAssertGreaterThan(compared, 10, c.stage)
            let trainer = try Trainer(recipe: r)
            trainer.quiet = true
            XCTAssertTrue(try trainer.run().losses.allSatisfy(\.isFinite), c.stage)
        }
    }

    func testOptionsBesideInitMustAgreeWithThePretrainedConfig() throws {
        _ = try writeLlama()
        XCTAssertNoThrow(try Recipe.load(recipe(llm: "{init: hf:llama, hidden: 64, kv_heads: 2}")))
        XCTAssertThrowsError(try Recipe.load(recipe(llm: "{init: hf:llama, hidden: 128}"))) { error in
            let e = error as? RecipeError
            XCTAssertEqual(e?.key, "model.llm.hidden")
            XCTAssertTrue(e?.message.contains("128 in the recipe, 64 in") ?? false, "\(error)")
        }
        XCTAssertThrowsError(try Recipe.load(recipe(llm: "{init: hf:missing}"))) { error in
            XCTAssertEqual((error as? RecipeError)?.key, "model.llm.init")
        }
    }
}
