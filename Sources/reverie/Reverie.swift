import ArgumentParser
import Foundation

struct Reverie: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reverie",
        abstract: "Multimodal language models that read and write images, on the CPU.",
        subcommands: [BenchCommand.self, InspectCommand.self, DataCommand.self, ConvertCommand.self])
}

@main
enum Entry {
    static func main() {
        ProcessEnvironment.settleOpenBLAS()
        Reverie.main()
    }
}
