import ArgumentParser
import Foundation
import ReverieRuntime

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Text → image.")
    @OptionGroup var model: ModelOptions
    @OptionGroup var drawing: DrawingArguments
    @Option(help: "What to draw.") var prompt: String
    @Option(help: "Output PNG (with --interleaved, image k is written as NAME-k.png).") var out: String
    @Flag(help: "Interleaved output: the model continues the text, drawing an image wherever it writes <img>.")
    var interleaved = false

    func validate() throws {
        guard !prompt.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--prompt is empty") }
    }

    func run() throws {
        let runner = try ModelRunner.load(model.url, drawing: drawing.options())
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
