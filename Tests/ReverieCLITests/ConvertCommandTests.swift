import Foundation
import ReverieIO
import XCTest

/// `reverie convert` end to end on the committed Llama fixtures.
final class ConvertCommandTests: XCTestCase {
    private func fixture(_ name: String, family: String = "llama") -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/\(family)/\(name)")
    }

    func testConvertsSiglipVisionModel() throws {
        let scratch = try ScratchDirectory()
        let output = scratch.file("siglip.h5")
        let dir = fixture("head", family: "siglip")
        let result = try ReverieBinary.run(["convert", dir.path, "-o", output.path])
        XCTAssertTrue(result.succeeded, "\(result)")
        XCTAssertTrue(result.stdout.contains("SiglipVisionModel"), "\(result)")
        let checkpoint = try Checkpoint.read(from: output)
        let source = try SafetensorsFile(url: dir.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(Set(checkpoint.model.keys), Set(source.tensorNames))
        XCTAssertEqual(checkpoint.model["head.probe"]?.toArray(), try source.tensor("head.probe").toArray())
    }

    func testConvertsBlip2QFormerModel() throws {
        let scratch = try ScratchDirectory()
        let dir = fixture("every2", family: "qformer")
        let result = try ReverieBinary.run(["convert", dir.path, "-o", scratch.file("qf.h5").path, "--json"])
        XCTAssertTrue(result.succeeded, "\(result)")
        let checkpoint = try Checkpoint.read(from: scratch.file("qf.h5"))
        let source = try SafetensorsFile(url: dir.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(Set(checkpoint.model.keys), Set(source.tensorNames))
        XCTAssertNotNil(checkpoint.modelConfig)
    }

    /// `reverie convert` then `reverie export --part llm`: the directory holds the same tensors under the same names.
    func testExportsAConvertedLlamaBack() throws {
        let scratch = try ScratchDirectory()
        let dir = fixture("mha_tied")
        XCTAssertTrue(try ReverieBinary.run(["convert", dir.path, "-o", scratch.file("l.h5").path]).succeeded)
        let out = scratch.file("export")
        let result = try ReverieBinary.run(["export", scratch.file("l.h5").path, "--part", "llm", "--out", out.path])
        XCTAssertTrue(result.succeeded, "\(result)")
        let source = try SafetensorsFile(url: dir.appendingPathComponent("model.safetensors"))
        let exported = try SafetensorsFile(url: out.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(Set(exported.tensorNames), Set(source.tensorNames))  // tied: no lm_head in either
        for name in source.tensorNames {
            XCTAssertEqual(try exported.tensor(name).toArray(), try source.tensor(name).toArray(), name)
        }
        let config = try HFConfigFile(url: out)
        XCTAssertEqual(config.architecture, "LlamaForCausalLM")
        XCTAssertEqual(try config.bool("tie_word_embeddings", default: false), true)
        let bad = try ReverieBinary.run(["export", scratch.file("l.h5").path, "--part", "unet", "--out", out.path])
        XCTAssertFalse(bad.succeeded)
        XCTAssertTrue(bad.stderr.contains("unet"), "\(bad)")
    }

    func testUnsupportedArchitectureIsNamed() throws {
        let scratch = try ScratchDirectory()
        try Data(#"{"architectures": ["BertModel"]}"#.utf8).write(to: scratch.file("config.json"))
        let result = try ReverieBinary.run(["convert", scratch.url.path, "-o", scratch.file("b.h5").path])
        XCTAssertFalse(result.succeeded, "\(result)")
        XCTAssertTrue(result.stderr.contains("BertModel") && result.stderr.contains("config.json"), "\(result)")
    }

    func testConvertsLlamaWithModelConfigAndHFKeys() throws {
        let scratch = try ScratchDirectory()
        let output = scratch.file("gqa.h5")
        let result = try ReverieBinary.run(["convert", fixture("gqa_untied").path, "--output", output.path, "--json"])
        XCTAssertTrue(result.succeeded, "\(result)")
        XCTAssertTrue(result.stdout.contains("\"architecture\":\"LlamaForCausalLM\""), "\(result)")
        let checkpoint = try Checkpoint.read(from: output)
        let source = try SafetensorsFile(url: fixture("gqa_untied").appendingPathComponent("model.safetensors"))
        XCTAssertEqual(Set(checkpoint.model.keys), Set(source.tensorNames))
        let key = "model.layers.1.self_attn.k_proj.weight"
        XCTAssertEqual(checkpoint.model[key]?.toArray(), try source.tensor(key).toArray())
        XCTAssertEqual(
            checkpoint.modelConfig,
            try String(contentsOf: fixture("gqa_untied").appendingPathComponent("config.json")))
    }

    func testFloat16OutputAndErrors() throws {
        let scratch = try ScratchDirectory()
        let half = try ReverieBinary.run([
            "convert", fixture("mha_tied").path, "-o", scratch.file("h.h5").path,
            "--dtype", "float16",
        ])
        XCTAssertTrue(half.succeeded, "\(half)")
        let listing = try ReverieBinary.run(["inspect", scratch.file("h.h5").path])
        XCTAssertTrue(listing.stdout.contains("float16"), "\(listing)")

        let badDType = try ReverieBinary.run([
            "convert", fixture("mha_tied").path, "-o", scratch.file("x.h5").path,
            "--dtype", "int8",
        ])
        XCTAssertFalse(badDType.succeeded, "\(badDType)")
        XCTAssertTrue(badDType.stderr.contains("int8"), "\(badDType)")

        let missing = try ReverieBinary.run(["convert", scratch.url.path, "-o", scratch.file("y.h5").path])
        XCTAssertFalse(missing.succeeded, "\(missing)")
        XCTAssertTrue(missing.stderr.contains("config.json"), "\(missing)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.file("y.h5").path))

        // A truncated weight file: the error names it.
        let broken = scratch.file("broken")
        try FileManager.default.copyItem(at: fixture("gqa_untied"), to: broken)
        let weights = broken.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count - 1000).write(to: weights)
        let truncated = try ReverieBinary.run(["convert", broken.path, "-o", scratch.file("z.h5").path])
        XCTAssertFalse(truncated.succeeded, "\(truncated)")
        XCTAssertTrue(
            truncated.stderr.contains("model.safetensors") && truncated.stderr.contains("truncated"),
            "\(truncated)")
    }
}

/// `reverie bench llm` end to end on a toy model (`--scale tiny`); the real configuration is `make bench`'s job.
final class LLMBenchCommandTests: XCTestCase {
    func testTinyLLMSuiteReportsTrainingAndDecoding() throws {
        let result = try ReverieBinary.run(
            ["bench", "llm", "--scale", "tiny", "--repeats", "1", "--json"], timeout: 60)
        XCTAssertTrue(result.succeeded, "\(result)")
        let report = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
        XCTAssertEqual(report["suite"] as? String, "llm")
        let results = try XCTUnwrap(report["results"] as? [[String: Any]])
        let names = results.compactMap { $0["name"] as? String }
        XCTAssertTrue(names.contains { $0.hasPrefix("llm_train_step") }, "\(names)")
        XCTAssertTrue(names.contains { $0.hasPrefix("llm_decode") }, "\(names)")
        for r in results where (r["name"] as? String)?.hasPrefix("llm_") == true {
            let detail = try XCTUnwrap(r["detail"] as? [String: Any])
            XCTAssertGreaterThan(detail["tokens_per_second"] as? Double ?? 0, 0, "\(r)")
            XCTAssertGreaterThan(r["fractionOfCeiling"] as? Double ?? 0, 0, "\(r)")
        }
    }
}
