import Foundation
import ReverieCore
import ReverieIO
import ReverieNN
import ReverieRuntime

/// Turns a checked recipe into a runnable stage: resolves `init` parts from their checkpoints, builds every part
/// (seeded), loads the initialised parts' weights, and freezes what the recipe freezes. Impossible shapes surface
/// here as `RecipeError`s naming the recipe file, before any training.
public enum StageBuilder {
    /// The configuration of every part: the recipe's own, or the one stored with the part's checkpoint.
    ///
    /// - Parameters:
    ///   - recipe: the stage recipe.
    ///   - predicted: for validation without checkpoints, the parts an earlier stage will produce (by run name);
    ///     used when that stage's output file does not exist yet.
    public static func resolveParts(_ recipe: Recipe, predicted: [String: ModelParts] = [:]) throws
        -> ModelParts
    {
        var parts = recipe.parts
        for (part, source) in recipe.sources.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            if case let .pretrained(directory, line) = source {
                do {
                    let importer = try PretrainedParts.registry.entry(part.rawValue, key: "init")
                    let options = recipe.pretrainedOptions[part] ?? ModelParts()
                    parts.take(part, from: try importer.configuration(URL(fileURLWithPath: directory), options))
                    if let lora = recipe.adapters[part] { parts.setAdapters(lora, of: part) }
                } catch {
                    throw RecipeError(
                        file: recipe.file, line: line, key: "model.\(part.rawValue).init", message: "\(error)")
                }
                continue
            }
            guard case let .checkpoint(path, run, line) = source else { continue }
            let stored: ModelParts
            if !FileManager.default.fileExists(atPath: path), let run, let p = predicted[run] {
                stored = p
            } else {
                guard FileManager.default.fileExists(atPath: path) else {
                    let hint = run.map { "; run the \($0) stage first" } ?? ""
                    throw RecipeError(
                        file: recipe.file, line: line, key: "model.\(part.rawValue).init",
                        message: "checkpoint \(path) does not exist\(hint)")
                }
                do {
                    stored = try ModelConfigRecord.read(URL(fileURLWithPath: path)).parts
                } catch {
                    throw RecipeError(
                        file: recipe.file, line: line, key: "model.\(part.rawValue).init",
                        message: "\(error)")
                }
            }
            guard stored.has(part) else {
                throw RecipeError(
                    file: recipe.file, line: line, key: "model.\(part.rawValue).init",
                    message: "checkpoint \(path) holds no '\(part.rawValue)' part")
            }
            parts.take(part, from: stored)
        }
        return parts
    }

    /// Builds the stage over `parts` with fresh weights, turning any configuration error into a `RecipeError`
    /// that names the recipe file (impossible shapes are found here, before training).
    public static func check(_ recipe: Recipe, parts: ModelParts) throws -> any TrainingStage {
        var rng = RNG(seed: recipe.seed)
        let canvas = recipe.data.canvas
        if let v = parts.vision, v.imageSize != canvas {
            throw recipe.error(
                "data.canvas",
                "\(canvas) differs from the vision encoder's image_size \(v.imageSize): images are "
                    + "brought to the canvas, and the encoder takes image_size")
        }
        if let a = parts.vae, canvas % a.downsampling != 0 {
            throw recipe.error(
                "data.canvas", "\(canvas) is not a multiple of the autoencoder's downsampling \(a.downsampling)")
        }
        do {
            try parts.validate()
            let stage = try make(recipe.stage, parts: parts, recipe: recipe, rng: &rng)
            try (stage as? MLLMStage)?.checkPositions(recipe)
            return stage
        } catch let e as RecipeError {
            throw e
        } catch let e as ConfigurationError {
            throw RecipeError(file: recipe.file, line: nil, key: "model.\(e.key)", message: e.message)
        } catch {
            throw RecipeError(file: recipe.file, line: nil, key: "model", message: "\(error)")
        }
    }

    /// Builds the stage the recipe names, with initialised parts loaded and frozen parts frozen.
    public static func build(_ recipe: Recipe) throws -> any TrainingStage {
        let parts = try resolveParts(recipe)
        let stage = try check(recipe, parts: parts)
        for (part, source) in recipe.sources {
            do {
                switch source {
                case .build: continue
                case let .checkpoint(path, _, _): try loadPart(part, from: path, into: stage.model)
                case let .pretrained(directory, _):
                    try loadPretrained(part, from: directory, parts: parts, into: stage.model)
                }
            } catch {
                let line: Int? =
                    switch source {
                    case let .checkpoint(_, _, at), let .pretrained(_, at): at
                    case .build: nil
                    }
                throw RecipeError(
                    file: recipe.file, line: line, key: "model.\(part.rawValue).init", message: "\(error)")
            }
        }
        try freeze(recipe, stage, parts: parts)
        return stage
    }

    /// Whether `key` is a LoRA adapter's tensor.
    static func isAdapter(_ key: String) -> Bool { key.contains(".lora_A.") || key.contains(".lora_B.") }

    /// Loads `part` converted from a pretrained directory (strict: every key of the part, right shapes; LoRA
    /// adapters stay as built).
    static func loadPretrained(_ part: PartName, from directory: String, parts: ModelParts, into model: Module) throws {
        let importer = try PretrainedParts.registry.entry(part.rawValue, key: "init")
        let state = try importer.weights(URL(fileURLWithPath: directory), parts)
        let targets = model.stateDict().filter {
            part.owns($0.key) && !isAdapter($0.key) && (state[$0.key] != nil || !importer.keepsBuilt($0.key))
        }
        try loadStateDict(state.filter { part.owns($0.key) }, into: targets, strict: true, file: directory)
    }

    /// The stage the recipe names with fresh weights everywhere (nothing loaded), frozen as the recipe says: a
    /// stage that trains at the speed of the real one, for benchmarks. `predicted` as in `resolveParts`.
    public static func fresh(_ recipe: Recipe, predicted: [String: ModelParts] = [:]) throws -> any TrainingStage {
        let parts = try resolveParts(recipe, predicted: predicted)
        let stage = try check(recipe, parts: parts)
        try freeze(recipe, stage, parts: parts)
        return stage
    }

    /// Freezes the parts the recipe freezes, and the own weights of a part with LoRA adapters (only the adapters
    /// train).
    /// A key pattern that matches no parameter is an error naming it (a typo would otherwise train everything).
    static func freeze(_ recipe: Recipe, _ stage: any TrainingStage, parts: ModelParts) throws {
        for part in recipe.freeze {
            for prefix in part.prefixes { _ = try? stage.model.freeze(prefix: prefix) }
        }
        let parameters = stage.model.namedParameters()
        for part in PartName.allCases where parts.adapters(of: part) != nil {
            for (key, parameter) in parameters where part.owns(key) && !isAdapter(key) {
                parameter.requiresGrad = false
            }
        }
        for pattern in recipe.freezePatterns {
            let matched = parameters.filter { pattern.matches($0.0) }
            guard !matched.isEmpty else {
                let example = parameters.first.map { " (keys look like \($0.0))" } ?? ""
                throw recipe.error("freeze", "'\(pattern)' matches no parameter\(example)")
            }
            for (_, parameter) in matched { parameter.requiresGrad = false }
        }
    }

    /// The stage object for `kind` over `parts` (fresh weights).
    public static func make(_ kind: StageKind, parts: ModelParts, recipe: Recipe?, rng: inout RNG) throws
        -> any TrainingStage
    {
        try StageRegistry.entry(kind).make(parts, recipe, &rng)
    }

    /// Loads the tensors of `part` from `path` into `model` (strict: every key of the part, right shapes).
    public static func loadPart(_ part: PartName, from path: String, into model: Module) throws {
        let url = URL(fileURLWithPath: path)
        var stored: [String: Tensor] = [:]
        for prefix in part.prefixes {
            stored.merge(try Checkpoint.read(from: url, sections: [.model], prefix: prefix).model) { a, _ in a }
        }
        let targets = model.stateDict().filter { part.owns($0.key) }
        try loadStateDict(stored.filter { part.owns($0.key) }, into: targets, strict: true, file: path)
    }
}
