import Foundation
import ReverieTrain

/// `reverie inspect RECIPE.yaml`: which parameters the stage trains and which stay frozen (whole parts, key
/// patterns, LoRA), grouped by key with layer numbers folded into `*`.
enum InspectParameters {
    static func text(recipe path: String, overrides: [String]) throws -> String {
        let recipe = try Recipe.load(URL(fileURLWithPath: path), overrides: overrides)
        let stage = try StageBuilder.fresh(recipe)
        var groups: [String: (trains: Bool, tensors: Int, elements: Int)] = [:]
        var order: [String] = []
        for (key, parameter) in stage.model.namedParameters() {
            let folded = key.split(separator: ".").map { Int($0) == nil ? String($0) : "*" }.joined(separator: ".")
            let group = "\(parameter.requiresGrad ? "trains" : "frozen")  \(folded)"
            if groups[group] == nil { order.append(group) }
            let old = groups[group] ?? (parameter.requiresGrad, 0, 0)
            groups[group] = (old.trains, old.tensors + 1, old.elements + parameter.count)
        }
        let total = stage.model.parameterCount, trained = stage.model.trainableParameterCount
        var lines = ["\(recipe.file): \(recipe.stage.rawValue) stage, \(total) parameters, \(trained) trained"]
        for group in order {
            let g = groups[group]!  // every group in `order` was inserted
            lines.append("  \(group)  (\(g.tensors) tensors, \(g.elements) elements)")
        }
        return lines.joined(separator: "\n")
    }
}
