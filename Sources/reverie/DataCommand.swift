import ArgumentParser

/// `reverie data …`: data sets and ShapesWorld.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Data sets and ShapesWorld, the embedded measurable world.",
        subcommands: [ShapesDataCommand.self, TokenizerDataCommand.self, CheckEvaluatorCommand.self])
}
