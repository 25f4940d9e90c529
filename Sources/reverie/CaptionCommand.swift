import ArgumentParser
import ReverieRuntime

struct CaptionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "caption", abstract: "Image → text.")
    @OptionGroup var model: ModelOptions
    @Option(help: "Input image (PNG or JPEG).") var image: String

    func run() throws {
        let runner = try ModelRunner.load(model.url)
        print(try runner.caption(loadModelImage(image, size: runner.imageSize)))
    }
}
