import ArgumentParser
import Foundation
import ReverieRuntime

struct Reverie: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reverie",
        abstract: "Multimodal language models that read and write images, on the CPU.",
        version: reverieVersion,
        subcommands: [
            TrainCommand.self, GenerateCommand.self, CaptionCommand.self, EditCommand.self,
            ReconstructCommand.self, EvalCommand.self, RecipesCommand.self, InspectCommand.self,
            ConvertCommand.self, ExportCommand.self, DataCommand.self, BenchCommand.self, ServeCommand.self,
        ])
}

@main
enum Entry {
    static func main() {
        ProcessEnvironment.settleOpenBLAS()
        setvbuf(stdout, nil, _IOLBF, 0)  // line-buffered even into a pipe or a log: stage headers appear as they happen
        Reverie.main()
    }
}
