import Foundation
import ReverieCore
import ReverieRuntime

extension ModelParts {
    /// Decodes `part`'s configuration from its recipe map (`model.<part>`), with file:line errors.
    mutating func read(_ part: PartName, _ node: RecipeNode) throws {
        let path = "model.\(part.rawValue)"
        switch part {
        case .vision: vision = try RecipeDecoder.decode(VisionPart.self, from: node, path: path)
        case .text: text = try RecipeDecoder.decode(TextPart.self, from: node, path: path)
        case .vae: vae = try RecipeDecoder.decode(VAEPart.self, from: node, path: path)
        case .unet: unet = try RecipeDecoder.decode(UNetPart.self, from: node, path: path)
        case .projector: projector = try RecipeDecoder.decode(ProjectorPart.self, from: node, path: path)
        case .output: output = try RecipeDecoder.decode(OutputPart.self, from: node, path: path)
        case .llm:
            var l = try RecipeDecoder.decode(LLMPart.self, from: node, path: path)
            do {
                // A path in a recipe file is relative to that file; one given by --set, to the working directory.
                let file = node["tokenizer"]?.file ?? node.file
                let base = file.hasPrefix("--set") ? nil : URL(fileURLWithPath: file).deletingLastPathComponent()
                try l.loadTokenizerFile(relativeTo: base, explicitVocab: node["vocab"] != nil)
            } catch let e as ConfigurationError {
                throw RecipeDecoder.locate(e, in: node, path: path)
            }
            llm = l
        }
    }
}
