import Foundation
import ReverieIO
import ReverieRuntime

extension PipelineRecipe {
    /// Where a finished pipeline leaves its model: `<root>/model.h5`.
    public var modelURL: URL { URL(fileURLWithPath: root).appendingPathComponent("model.h5") }

    /// Writes the last stage's weights as `<root>/model.h5` in float16 (half the size; widened on load), with the
    /// whole recipe that made it embedded: this pipeline file and every stage's resolved recipe, as one YAML
    /// stream (documents separated by `---`). The siglip stage's text tower comes along (the `text` part), so the
    /// model can score image–text retrieval (`TextImageScorer`).
    public func exportModel(from final: URL, stages: [Recipe]) throws -> URL {
        var checkpoint = try Checkpoint.read(from: final, sections: [.model])
        var record = try ModelConfigRecord.read(final)
        if record.parts.text == nil,
            let towers = stages.map(\.finalCheckpoint).first(where: {
                (try? ModelConfigRecord.read($0))?.parts.text != nil
            })
        {
            let source = try ModelConfigRecord.read(towers)
            let tensors = try Checkpoint.read(from: towers, sections: [.model]).model
            for (k, t) in tensors where PartName.text.owns(k) && !k.hasPrefix("patch_") { checkpoint.model[k] = t }
            record.parts.text = source.parts.text
            checkpoint.modelConfig = try record.json()
        }
        let pipelineText = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        checkpoint.recipe =
            (["# pipeline: \(file)\n" + pipelineText]
            + stages.map { "# stage: \($0.file)\n" + $0.resolvedYAML }).joined(separator: "---\n")
        try checkpoint.write(to: modelURL, dtype: .float16)
        return modelURL
    }
}
