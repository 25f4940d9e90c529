import ArgumentParser
import Foundation
import ReverieData
import ReverieDistributed
import ReverieRuntime

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a model on ShapesWorld or on a manifest: caption, text-to-image, edit, reconstruction.",
        discussion: """
            --suite shapes (the default) reads every drawing back into a scene and scores attributes; --suite \
            manifest --manifest PATH scores any model on any manifest: captions by exact match, token F1 and \
            corpus BLEU-4 against the reference texts, drawings, edits and reconstructions by PSNR and SSIM \
            against the reference images (edits also against their source). Under mpirun the shapes suite shares \
            its items among the ranks and rank 0 reports the gathered scores (the same as one process's).
            """)
    @OptionGroup var model: ModelOptions
    @OptionGroup var drawing: DrawingArguments
    @OptionGroup var keeping: KeepingArguments
    @Option(help: "The suite: shapes or manifest.") var suite = "shapes"
    @Option(help: "The manifest to score on (--suite manifest).") var manifest: String?
    @Option(help: "Items per capability.") var count = ShapesSuite.defaultCount
    @Option(help: "The evaluation world's seed (never one trained on).") var worldSeed = ShapesWorld.evaluationSeed
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(
        help: "Also list every single edit that missed its target: the instruction, the source, wanted and read scenes."
    )
    var failures = false
    @Option(
        help: """
            Comma-separated capabilities to score: caption,generate,edit,reconstruct, and edit_oracle (not by default: \
            each edit's target drawn from its own encoder conditions, the decoder's ceiling for edits).
            """)
    var capabilities = "caption,generate,edit,reconstruct"

    static let allCapabilities: Set<String> = ["caption", "generate", "edit", "reconstruct", "edit_oracle"]
    /// What a run scores unless asked otherwise (the pipeline's final evaluation too): not the oracle.
    static let defaultCapabilities: Set<String> = ["caption", "generate", "edit", "reconstruct"]
    /// Score name → the capability that produces it.
    static let capabilityOf = [
        "caption_exact": "caption", "text_to_image": "generate", "edit": "edit", "edit_two_turn": "edit",
        "reconstruction": "reconstruct",
    ]

    func validate() throws {
        let asked = Set(capabilities.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            .subtracting([""])
        guard !asked.isEmpty else {
            throw ValidationError(
                "--capabilities names none; available: caption, generate, edit, reconstruct, edit_oracle")
        }
        if let bad = asked.subtracting(Self.allCapabilities).sorted().first {
            throw ValidationError(
                "unknown capability '\(bad)' in --capabilities; available: caption, generate, edit, "
                    + "reconstruct, edit_oracle")
        }
        guard ["shapes", "manifest"].contains(suite) else {
            throw ValidationError("unknown suite '\(suite)'; available: shapes, manifest")
        }
        guard (suite == "manifest") == (manifest != nil) else {
            throw ValidationError(
                suite == "manifest"
                    ? "--suite manifest needs --manifest PATH"
                    : "--manifest goes with --suite manifest")
        }
        if suite == "manifest", asked.contains("edit_oracle") {
            throw ValidationError("edit_oracle needs ShapesWorld's scenes (--suite shapes)")
        }
        guard count > 0 else { throw ValidationError("--count must be positive") }
    }

    func run() throws {
        let comm = try DistributedLaunch.communicator()
        defer { (comm as? MPICommunicator)?.finish() }
        let asked = Set(capabilities.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if let manifest {
            let started = Date()
            let runner = try ModelRunner.load(model.url, drawing: drawing.options(keeping: keeping))
            let scores = try ManifestSuite(url: URL(fileURLWithPath: manifest), count: count).run(
                runner, capabilities: asked, scorer: TextImageScorer.load(model.url),
                share: ItemShare(communicator: comm))
            guard comm.rank == 0 else { return }
            let seconds = Date().timeIntervalSince(started)
            if json {
                var fields: [String: Any] = ["checkpoint": model.url.path, "manifest": manifest, "seconds": seconds]
                for (k, v) in scores { fields[k] = v }
                let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("\(manifest) (at most \(count) items each, \(String(format: "%.0f", seconds)) s):")
                for (k, v) in scores {
                    print("  \(k.padding(toLength: 22, withPad: " ", startingAt: 0)) " + String(format: "%.4f", v))
                }
            }
            return
        }
        try Self.report(
            checkpoint: model.url, count: count, seed: worldSeed, drawing: drawing.options(keeping: keeping),
            json: json, capabilities: asked, failures: failures, communicator: comm)
    }

    /// Scores the checkpoint on `count` items of the world seeded `seed` and prints the report. A checkpoint
    /// without an LLM (a decoder stage's) is scored on reconstruction, the one capability it has.
    static func report(
        checkpoint: URL, count: Int, seed: UInt64, drawing: DrawingOptions, json: Bool,
        capabilities: Set<String> = defaultCapabilities, failures: Bool = false,
        communicator comm: any Communicator = SingleProcess()
    ) throws {
        let record = try ModelConfigRecord.read(checkpoint)
        guard ModelAssembly.isMultimodal(record) else {
            let scores = try DecoderRunner.load(checkpoint, drawing: drawing).evaluate(
                count: count, seed: seed, share: ItemShare(communicator: comm))
            guard comm.rank == 0 else { return }
            if json {
                let fields = Dictionary(uniqueKeysWithValues: scores)
                let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
            } else {
                for (k, v) in scores { print("  \(k) " + String(format: "%5.1f %%", v * 100)) }
            }
            return
        }
        let runner = try ModelRunner.load(checkpoint, drawing: drawing)
        let model = runner.model
        let canvas = model.visionEncoder.config.imageSize
        let started = Date()
        // Under mpirun every rank scores every size-th item, and the shares' tallies are gathered.
        let share = ItemShare(communicator: comm)
        let report = try ShapesSuite(world: ShapesWorld(seed: seed, canvas: canvas), count: count)
            .run(
                items: share.mine(count),
                caption: capabilities.contains("caption") ? runner.caption : nil,
                generate: capabilities.contains("generate") ? runner.generate : nil,
                edit: capabilities.contains("edit") ? runner.edit : nil,
                reconstruct: capabilities.contains("reconstruct") ? runner.reconstruct : nil,
                editOracle: capabilities.contains("edit_oracle") ? runner.editOracle : nil
            )
            .merged(over: share)
        guard comm.rank == 0 else { return }
        let seconds = Date().timeIntervalSince(started)
        if json {
            var fields: [String: Any] = [
                "checkpoint": checkpoint.path, "count": count, "world_seed": seed,
                "seconds": seconds,
            ]
            for (k, v) in report.scores where capabilities.contains(capabilityOf[k] ?? k) { fields[k] = v }
            fields["edit_by_kind"] = report.editByKind.mapValues { $0.accuracy }
            if capabilities.contains("edit_oracle") {
                fields["edit_oracle"] = report.editOracle.accuracy
                fields["edit_oracle_by_kind"] = report.editOracleByKind.mapValues { $0.accuracy }
            }
            if failures, capabilities.contains("edit") {
                fields["edit_failures"] = report.editFailures.map { f in
                    var entry: [String: Any] = [
                        "item": f.item, "kind": f.kind, "instruction": f.instruction,
                        "source": f.source, "wanted": f.wanted, "got": f.got,
                    ]
                    entry["oracle_missed"] = f.oracleMissed
                    return entry
                }
            }
            for (key, scores) in attributeBreakdowns(report, capabilities) {
                fields[key] = Dictionary(uniqueKeysWithValues: scores.byName.map { ($0.0, $0.1.accuracy) })
                fields[key.replacingOccurrences(of: "_by_attribute", with: "_shape_by_kind")] =
                    scores.shapeByKind.mapValues { $0.accuracy }
            }
            let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("ShapesWorld (\(count) items, world seed \(seed), \(String(format: "%.0f", seconds)) s):")
            for (k, v) in report.scores where capabilities.contains(capabilityOf[k] ?? k) {
                print(
                    "  \(k.padding(toLength: 16, withPad: " ", startingAt: 0)) " + String(format: "%5.1f %%", v * 100))
            }
            for (key, scores) in attributeBreakdowns(report, capabilities) {
                print(
                    "  \(key): "
                        + scores.byName.map { "\($0.0) " + String(format: "%.1f", 100 * $0.1.accuracy) }
                        .joined(separator: ", "))
                print("    shape by kind: " + Self.percentages(scores.shapeByKind))
            }
            if capabilities.contains("edit") {
                print("  edit_by_kind: " + Self.percentages(report.editByKind))
            }
            if capabilities.contains("edit_oracle") {
                print(
                    "  edit_oracle      " + String(format: "%5.1f %%", report.editOracle.accuracy * 100)
                        + " (the targets' own conditions drawn: the decoder's ceiling for edits)")
                print("  edit_oracle_by_kind: " + Self.percentages(report.editOracleByKind))
            }
            if failures, capabilities.contains("edit") {
                let decoderToo = report.editFailures.filter { $0.oracleMissed == true }.count
                print(
                    "edits that missed (\(report.editFailures.count)"
                        + (capabilities.contains("edit_oracle")
                            ? ", \(decoderToo) missed from the target's own conditions too" : "")
                        + "):")
                for f in report.editFailures {
                    print(
                        "  #\(f.item) \(f.kind)\(f.oracleMissed == true ? " (decoder)" : ""): \(f.instruction)\n"
                            + "    source \(f.source)\n    wanted \(f.wanted)\n    got    \(f.got)")
                }
            }
        }
    }

    /// "a 12.5, b 100.0": the accuracies of `tallies`, by key.
    static func percentages(_ tallies: [String: Tally]) -> String {
        tallies.sorted { $0.key < $1.key }.map { "\($0.key) " + String(format: "%.1f", 100 * $0.value.accuracy) }
            .joined(separator: ", ")
    }

    /// Per-attribute scores (shape, colour, size, position, background, count, exact) of the captions and images
    /// of the capabilities that were run, keyed `<score>_by_attribute`.
    static func attributeBreakdowns(
        _ report: ShapesSuiteReport,
        _ capabilities: Set<String>
    ) -> [(String, AttributeScores)] {
        var out: [(String, AttributeScores)] = []
        if capabilities.contains("caption") { out.append(("caption_by_attribute", report.caption)) }
        if capabilities.contains("generate") { out.append(("text_to_image_by_attribute", report.textToImage)) }
        if capabilities.contains("reconstruct") { out.append(("reconstruction_by_attribute", report.reconstruction)) }
        return out
    }
}
