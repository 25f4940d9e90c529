import ArgumentParser
import Foundation
import ReverieData
import ReverieIO
import ReverieMultimodal
import ReverieTrain

/// Options every inference command shares.
struct SamplingOptions: ParsableArguments {
    @Option(help: "A model checkpoint (the mllm stage's or the pipeline's final.h5).")
    var checkpoint: String = "checkpoints/shapes/model.h5"

    @Option(help: "Denoising steps (the shipped decoder predicts x0 and needs few).")
    var steps = 10

    @Option(help: "Classifier-free guidance scale (1 = none; the shipped decoder scores best without).")
    var guidance: Float = 1

    @Option(help: "Noise seed.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp(
        "Edits keep the source wherever the model's conditions change by at most this fraction of their energy, "
            + "or, with a change head, wherever it says unchanged (blended sampling; 0 redraws everything).",
        valueName: "fraction"))
    var keepThreshold: Float = 0.25

    @Option(help: ArgumentHelp("Tokens each way an edit's changed region grows before the rest is kept "
                                   + "(default: 0 with a change head, 1 without).",
                               valueName: "tokens"))
    var keepGrow: Int?

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        guard guidance >= 0 else { throw ValidationError("--guidance must be ≥ 0") }
        guard keepThreshold >= 0 else { throw ValidationError("--keep-threshold must be ≥ 0") }
        guard (keepGrow ?? 0) >= 0 else { throw ValidationError("--keep-grow must be ≥ 0") }
    }

    func runner() throws -> ModelRunner {
        let (model, record) = try ModelAssembly.loadMultimodal(URL(fileURLWithPath: checkpoint))
        return ModelRunner(model: model, text: try record.parts.textEncoder(), steps: steps, guidance: guidance,
                           seed: seed, keeping: keeping)
    }

    var keeping: SourceKeeping? { SourceKeeping.at(keepThreshold, grow: keepGrow) }
}

/// Reads an image file as the model's input: RGB, centre-cropped to a square, resized to `size` (bicubic).
func loadModelImage(_ path: String, size: Int) throws -> PlanarImage {
    let image = try Image(contentsOf: URL(fileURLWithPath: path)).rgb().centerSquare()
    let fitted = image.width == size ? image : try image.resized(width: size, height: size)
    return try PlanarImage(tensor: fitted.tensor())
}

func writeImage(_ image: PlanarImage, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Image(tensor: image.tensor()).writePNG(to: url)
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Text → image.")
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "What to draw.") var prompt: String
    @Option(help: "Output PNG (with --interleaved, image k is written as NAME-k.png).") var out: String
    @Flag(help: "Interleaved output: the model continues the text, drawing an image wherever it writes <img>.")
    var interleaved = false

    func validate() throws {
        guard !prompt.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--prompt is empty") }
    }

    func run() throws {
        let runner = try sampling.runner()
        guard interleaved else {
            try writeImage(try runner.generate(prompt), to: out)
            print(out)
            return
        }
        var count = 0
        print(prompt, terminator: "")
        for piece in try runner.interleaved(prompt) {
            if let text = piece.text { print(text, terminator: "") }
            if let image = piece.image {
                count += 1
                let file = (out as NSString).deletingPathExtension + "-\(count).png"
                try writeImage(image, to: file)
                print(" [image: \(file)] ", terminator: "")
            }
        }
        print("")
    }
}

struct CaptionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "caption", abstract: "Image → text.")
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "Input image (PNG or JPEG).") var image: String

    func run() throws {
        let runner = try sampling.runner()
        print(try runner.caption(loadModelImage(image, size: runner.model.visionEncoder.config.imageSize)))
    }
}

struct EditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit", abstract: "Image + instructions → image; each instruction edits the previous result.")
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "Input image (PNG or JPEG).") var image: String
    @Option(help: "An instruction (repeat for several turns).") var instruction: [String]
    @Option(help: "Output PNG (turn k of n>1 is also written as NAME-k.png).") var out: String

    func validate() throws {
        guard !instruction.isEmpty else { throw ValidationError("give at least one --instruction") }
        if let i = instruction.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ValidationError("--instruction \(i + 1) is empty")
        }
    }

    func run() throws {
        let runner = try sampling.runner()
        var current = try loadModelImage(image, size: runner.model.visionEncoder.config.imageSize)
        for (i, text) in instruction.enumerated() {
            let said: String?
            (current, said) = try runner.describedEdit(current, text)
            if instruction.count > 1 {
                let turn = (out as NSString).deletingPathExtension + "-\(i + 1).png"
                try writeImage(current, to: turn)
                print("turn \(i + 1): \(text) → \(turn)")
            }
            if let said { print("  the model's result: \(said)") }
        }
        try writeImage(current, to: out)
        print(out)
    }
}

struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct", abstract: "Image → encoder conditions → decoder → image.")
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "Input image (PNG or JPEG).") var image: String
    @Option(help: "Output PNG.") var out: String
    @Flag(help: "Through the autoencoder alone (VAE encode → decode), without the encoder's conditions and the denoiser.")
    var autoencoder = false

    func run() throws {
        let runner = try sampling.runner()
        let input = try loadModelImage(image, size: runner.model.visionEncoder.config.imageSize)
        try writeImage(try autoencoder ? runner.autoencode(input) : runner.reconstruct(input), to: out)
        print(out)
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Score a model on ShapesWorld: caption, text-to-image, edit, reconstruction.")
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "The suite (only `shapes`).") var suite = "shapes"
    @Option(help: "Items per capability.") var count = 100
    @Option(help: "The evaluation world's seed (never one trained on).") var worldSeed: UInt64 = 1_000_003
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(help: "Also list every single edit that missed its target: the instruction, the source, wanted and read scenes.")
    var failures = false
    @Option(help: """
        Comma-separated capabilities to score: caption,generate,edit,reconstruct, and edit_oracle (not by default: \
        each edit's target drawn from its own encoder conditions, the decoder's ceiling for edits).
        """)
    var capabilities = "caption,generate,edit,reconstruct"

    static let allCapabilities: Set<String> = ["caption", "generate", "edit", "reconstruct", "edit_oracle"]
    /// What a run scores unless asked otherwise (the pipeline's final evaluation too): not the oracle.
    static let defaultCapabilities: Set<String> = ["caption", "generate", "edit", "reconstruct"]
    /// Score name → the capability that produces it.
    static let capabilityOf = ["caption_exact": "caption", "text_to_image": "generate", "edit": "edit", "edit_two_turn": "edit",
                               "reconstruction": "reconstruct"]

    func validate() throws {
        let asked = Set(capabilities.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if let bad = asked.subtracting(Self.allCapabilities).sorted().first {
            throw ValidationError("unknown capability '\(bad)' in --capabilities; available: caption, generate, edit, "
                                  + "reconstruct, edit_oracle")
        }
        guard suite == "shapes" else { throw ValidationError("unknown suite '\(suite)'; available: shapes") }
        guard count > 0 else { throw ValidationError("--count must be positive") }
    }

    func run() throws {
        let asked = Set(capabilities.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        try Self.report(checkpoint: URL(fileURLWithPath: sampling.checkpoint), count: count, seed: worldSeed,
                        steps: sampling.steps, guidance: sampling.guidance, json: json, noiseSeed: sampling.seed,
                        capabilities: asked, keeping: sampling.keeping, failures: failures)
    }

    static func report(checkpoint: URL, count: Int, seed: UInt64, steps: Int, guidance: Float, json: Bool,
                       noiseSeed: UInt64 = 0, capabilities: Set<String> = defaultCapabilities,
                       keeping: SourceKeeping? = nil, failures: Bool = false) throws {
        if let record = try? Checkpoint.readAttributes(from: checkpoint)["model_config"]?.stringValue,
           record.contains("\"stage\":\"decoder\"") {
            // A decoder-stage checkpoint: reconstruction is the one capability it has.
            let scores = try ModelAssembly.evaluateDecoder(checkpoint, count: count, seed: seed, steps: steps,
                                                           guidance: guidance)
            if json {
                let fields = Dictionary(uniqueKeysWithValues: scores)
                let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
            } else {
                for (k, v) in scores { print("  \(k) " + String(format: "%5.1f %%", v * 100)) }
            }
            return
        }
        let (model, record) = try ModelAssembly.loadMultimodal(checkpoint)
        let runner = ModelRunner(model: model, text: try record.parts.textEncoder(), steps: steps, guidance: guidance,
                                 seed: noiseSeed, keeping: keeping)
        let canvas = model.visionEncoder.config.imageSize
        let started = Date()
        let report = try ShapesSuite(world: ShapesWorld(seed: seed, canvas: canvas), count: count)
            .run(caption: capabilities.contains("caption") ? runner.caption : nil,
                 generate: capabilities.contains("generate") ? runner.generate : nil,
                 edit: capabilities.contains("edit") ? runner.edit : nil,
                 reconstruct: capabilities.contains("reconstruct") ? runner.reconstruct : nil,
                 editOracle: capabilities.contains("edit_oracle") ? runner.editOracle : nil)
        let seconds = Date().timeIntervalSince(started)
        if json {
            var fields: [String: Any] = ["checkpoint": checkpoint.path, "count": count, "world_seed": seed,
                                         "seconds": seconds]
            for (k, v) in report.scores where capabilities.contains(capabilityOf[k] ?? k) { fields[k] = v }
            fields["edit_by_kind"] = report.editByKind.mapValues { $0.accuracy }
            if capabilities.contains("edit_oracle") {
                fields["edit_oracle"] = report.editOracle.accuracy
                fields["edit_oracle_by_kind"] = report.editOracleByKind.mapValues { $0.accuracy }
            }
            if failures, capabilities.contains("edit") {
                fields["edit_failures"] = report.editFailures.map { f in
                    var entry: [String: Any] = ["item": f.item, "kind": f.kind, "instruction": f.instruction,
                                                "source": f.source, "wanted": f.wanted, "got": f.got]
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
                print("  \(k.padding(toLength: 16, withPad: " ", startingAt: 0)) " + String(format: "%5.1f %%", v * 100))
            }
            for (key, scores) in attributeBreakdowns(report, capabilities) {
                print("  \(key): " + scores.byName.map { "\($0.0) " + String(format: "%.1f", 100 * $0.1.accuracy) }
                    .joined(separator: ", "))
                print("    shape by kind: " + Self.percentages(scores.shapeByKind))
            }
            if capabilities.contains("edit") {
                print("  edit_by_kind: " + Self.percentages(report.editByKind))
            }
            if capabilities.contains("edit_oracle") {
                print("  edit_oracle      " + String(format: "%5.1f %%", report.editOracle.accuracy * 100)
                      + " (the targets' own conditions drawn: the decoder's ceiling for edits)")
                print("  edit_oracle_by_kind: " + Self.percentages(report.editOracleByKind))
            }
            if failures, capabilities.contains("edit") {
                let decoderToo = report.editFailures.filter { $0.oracleMissed == true }.count
                print("edits that missed (\(report.editFailures.count)"
                      + (capabilities.contains("edit_oracle") ? ", \(decoderToo) missed from the target's own conditions too" : "")
                      + "):")
                for f in report.editFailures {
                    print("  #\(f.item) \(f.kind)\(f.oracleMissed == true ? " (decoder)" : ""): \(f.instruction)\n"
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
    static func attributeBreakdowns(_ report: ShapesSuiteReport,
                                    _ capabilities: Set<String>) -> [(String, AttributeScores)] {
        var out: [(String, AttributeScores)] = []
        if capabilities.contains("caption") { out.append(("caption_by_attribute", report.caption)) }
        if capabilities.contains("generate") { out.append(("text_to_image_by_attribute", report.textToImage)) }
        if capabilities.contains("reconstruct") { out.append(("reconstruction_by_attribute", report.reconstruction)) }
        return out
    }
}
