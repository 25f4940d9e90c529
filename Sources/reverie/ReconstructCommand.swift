import ArgumentParser
import ReverieRuntime

struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct", abstract: "Image → encoder conditions → decoder → image.")
    @OptionGroup var model: ModelOptions
    @OptionGroup var drawing: DrawingArguments
    @Option(help: "Input image (PNG or JPEG).") var image: String
    @Option(help: "Output PNG.") var out: String
    @Flag(
        help: "Through the autoencoder alone (VAE encode → decode), without the encoder's conditions and the denoiser.")
    var autoencoder = false

    func run() throws {
        let runner = try ModelRunner.load(model.url, drawing: drawing.options())
        let input = try loadModelImage(image, size: runner.imageSize)
        try writeImage(try autoencoder ? runner.autoencode(input) : runner.reconstruct(input), to: out)
        print(out)
    }
}
