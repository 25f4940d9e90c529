import Foundation
import ReverieIO

extension PipelineRecipe {
    /// Where a finished pipeline leaves its model: `<root>/model.h5`.
    public var modelURL: URL { URL(fileURLWithPath: root).appendingPathComponent("model.h5") }

    /// Writes the last stage's weights as `<root>/model.h5` in float16 (half the size; widened on load), with the
    /// whole recipe that made it embedded: this pipeline file and every stage's resolved recipe, as one YAML
    /// stream (documents separated by `---`).
    public func exportModel(from final: URL, stages: [Recipe]) throws -> URL {
        var checkpoint = try Checkpoint.read(from: final, sections: [.model])
        let pipelineText = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        checkpoint.recipe =
            (["# pipeline: \(file)\n" + pipelineText]
            + stages.map { "# stage: \($0.file)\n" + $0.resolvedYAML }).joined(separator: "---\n")
        try checkpoint.write(to: modelURL, dtype: .float16)
        return modelURL
    }
}
