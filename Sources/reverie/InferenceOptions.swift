import ArgumentParser
import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieIO
import ReverieRuntime

/// The model every inference command loads.
struct ModelOptions: ParsableArguments {
    @Option(help: "A model checkpoint (the mllm stage's or the pipeline's final.h5, or a pipeline's model.h5).")
    var checkpoint: String = "checkpoints/shapes/model.h5"

    var url: URL { URL(fileURLWithPath: checkpoint) }
}

/// How a command that draws samples: the defaults are `DrawingOptions`'s, the only ones.
struct DrawingArguments: ParsableArguments {
    @Option(help: ArgumentHelp("The sampler: \(SamplerRegistry.kinds.joined(separator: ", ")).", valueName: "name"))
    var sampler = DrawingOptions().sampler.kind

    @Option(help: "Denoising steps (the shipped decoder predicts x0 and needs few).")
    var steps = DrawingOptions().steps

    @Option(help: "Classifier-free guidance scale (1 = none; the shipped decoder scores best without).")
    var guidance = DrawingOptions().guidance

    @Option(help: "Noise seed.")
    var seed = DrawingOptions().seed

    func validate() throws {
        guard SamplerRegistry.kinds.contains(sampler) else {
            throw ValidationError(
                "unknown --sampler '\(sampler)'; available: \(SamplerRegistry.kinds.joined(separator: ", "))")
        }
        guard (1...10_000).contains(steps) else { throw ValidationError("--steps must be in 1...10000, got \(steps)") }
        // NaN fails the comparison; infinite or huge guidance drowns the image in the guided difference.
        guard guidance >= 0, guidance <= 100 else {
            throw ValidationError("--guidance must be in 0...100, got \(guidance)")
        }
    }

    /// These arguments over `keeping`'s edit settings, checked as a recipe's are (an error names the flag).
    func options(keeping: KeepingArguments? = nil) throws -> DrawingOptions {
        var d = DrawingOptions()
        d.sampler = SamplerSpec(try SamplerRegistry.config(sampler))
        (d.steps, d.guidance, d.seed) = (steps, guidance, seed)
        if let keeping { (d.keepThreshold, d.keepGrow) = (keeping.keepThreshold, keeping.keepGrow) }
        do {
            try d.validate()
        } catch let error as ConfigurationError {
            let flag = ["sample_steps": "steps"][error.key] ?? error.key
            throw ValidationError("--\(flag.replacingOccurrences(of: "_", with: "-")): \(error.message)")
        }
        return d
    }
}

/// How an edit keeps its source.
struct KeepingArguments: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Edits keep the source wherever the model's conditions change by at most this fraction of their energy, "
                + "or, with a change head, wherever it says unchanged (blended sampling; 0 redraws everything).",
            valueName: "fraction"))
    var keepThreshold = DrawingOptions().keepThreshold

    @Option(
        help: ArgumentHelp(
            "Tokens each way an edit's changed region grows before the rest is kept "
                + "(default: 0 with a change head, 1 without).",
            valueName: "tokens"))
    var keepGrow: Int?

    func validate() throws {
        guard keepThreshold >= 0, keepThreshold <= 1 else {
            throw ValidationError("--keep-threshold is a fraction in 0...1, got \(keepThreshold)")
        }
        guard (0...1024).contains(keepGrow ?? 0) else { throw ValidationError("--keep-grow must be in 0...1024") }
    }
}

/// Reads an image file as the model's input: RGB, centre-cropped to a square, resized to `size` (bicubic).
func loadModelImage(_ path: String, size: Int) throws -> PlanarImage {
    let image = try Image(uprightContentsOf: URL(fileURLWithPath: path)).rgb().centerSquare()
    let fitted = image.width == size ? image : try image.resized(width: size, height: size)
    return try PlanarImage(tensor: fitted.tensor())
}

func writeImage(_ image: PlanarImage, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Image(tensor: image.tensor()).writePNG(to: url)
}
