import ArgumentParser
import Foundation
import ReverieRuntime

struct EditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit", abstract: "Image + instructions → image; each instruction edits the previous result.")
    @OptionGroup var model: ModelOptions
    @OptionGroup var drawing: DrawingArguments
    @OptionGroup var keeping: KeepingArguments
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
        let runner = try ModelRunner.load(model.url, drawing: drawing.options(keeping: keeping))
        var current = try loadModelImage(image, size: runner.imageSize)
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
