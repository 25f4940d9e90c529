import Foundation
import ReverieData

/// A pipeline recipe: stage recipes run in order under one root, each stage initialising from the previous
/// stages' `final.h5` (`init: siglip` in a stage recipe means `<root>/siglip/final.h5`).
///
/// ```yaml
/// root: runs/shapes
/// stages:
///   - siglip.yaml                       # paths are relative to this file
///   - recipe: mllm.yaml
///     set: {train.steps: 200}           # per-stage overrides, as with --set
/// ```
public struct PipelineRecipe: Sendable {
    public struct Stage: Sendable {
        public var recipe: URL
        public var overrides: [String]
    }

    public var file: String
    public var root: String
    public var stages: [Stage]
    /// The final ShapesWorld evaluation after the last stage: items and the (never trained on) world seed.
    public var evalCount = ShapesSuite.defaultCount
    public var evalSeed = ShapesWorld.evaluationSeed

    /// Whether the YAML at `url` is a pipeline (it has a top-level `stages` list).
    public static func isPipeline(_ node: RecipeNode) -> Bool { node["stages"] != nil }

    /// Reads a pipeline; `overrides` apply to the pipeline file itself (`--set root=runs/x`).
    public init(node: RecipeNode) throws {
        let top = try RecipeSection(node)
        file = node.file
        root = try top.string("root", default: Recipe.defaultRoot)
        guard let list = top.raw("stages"), case let .list(items) = list.value, !items.isEmpty else {
            throw top.error("stages", "must be a non-empty list of stage recipes")
        }
        let base = URL(fileURLWithPath: node.file).deletingLastPathComponent()
        // A stage path is relative to the pipeline file unless absolute.
        func url(_ path: String) -> URL {
            path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        }
        stages = try items.enumerated().map { i, item in
            switch item.value {
            case let .scalar(path, _):
                return Stage(recipe: url(path), overrides: [])
            case .map:
                let s = try RecipeSection(item, path: "stages[\(i)]")
                guard let path = try s.string("recipe") else { throw s.error("recipe", "missing") }
                var overrides: [String] = []
                if let set = try s.section("set") {
                    for key in set.keys {
                        guard let v = set.raw(key) else { continue }
                        guard case let .scalar(text, _) = v.value else {
                            throw set.error(key, "overrides must be scalar values")
                        }
                        overrides.append("\(key)=\(text)")
                    }
                }
                try s.finish()
                return Stage(recipe: url(path), overrides: overrides)
            case .list:
                throw RecipeError(
                    file: node.file, line: item.line, key: "stages[\(i)]",
                    message: "must be a file name or {recipe: …, set: {…}}")
            }
        }
        if let e = try top.section("eval") {
            evalCount = try e.int("count", default: evalCount, min: 0)
            evalSeed = UInt64(try e.int("seed", default: Int(evalSeed), min: 0))
            try e.finish()
        }
        try top.finish()
    }

    /// Reads a pipeline and its stage recipes with command-line overrides: `root=` applies to the pipeline (and so
    /// to every stage), every other override to every stage.
    public static func load(_ url: URL, overrides: [String]) throws -> (PipelineRecipe, [Recipe]) {
        var (node, _) = try RecipeNode.load(url)
        let (own, staged) = (overrides.filter(isPipelineOverride), overrides.filter { !isPipelineOverride($0) })
        for o in own { try node.override(o) }
        let pipeline = try PipelineRecipe(node: node)
        return (pipeline, try pipeline.loadStages(extra: staged))
    }

    static func isPipelineOverride(_ assignment: String) -> Bool { assignment.hasPrefix("root=") }

    /// Every stage recipe, loaded with its overrides, this pipeline's root and the command line's `extra`
    /// overrides. An extra override of a part's option (`model.llm.hidden=256`) reaches the stages that build that
    /// part (not those that load it or lack it), one of a whole part or its `init` the stages that have the part;
    /// every other one reaches every stage.
    ///
    /// - Throws: `RecipeError` naming the stage recipe of a bad override, or an override no stage takes.
    public func loadStages(extra: [String] = []) throws -> [Recipe] {
        var taken = Set<String>()
        let recipes = try stages.map { st -> Recipe in
            guard FileManager.default.fileExists(atPath: st.recipe.path) else {
                throw RecipeError(
                    file: file, line: nil, key: "stages",
                    message: "stage recipe \(st.recipe.path) does not exist")
            }
            let (node, _) = try RecipeNode.load(st.recipe)
            let own = extra.filter { Self.reaches($0, node) }
            taken.formUnion(own)
            do {
                return try Recipe.load(st.recipe, overrides: ["root=\(root)"] + st.overrides + own)
            } catch var e as RecipeError where e.file.hasPrefix("--set") {
                e.message += " (in stage recipe \(st.recipe.path))"
                throw e
            }
        }
        // Two stages writing one run directory would overwrite each other's checkpoints.
        var outputs: [String: String] = [:]
        for (st, r) in zip(stages, recipes) {
            if let earlier = outputs[r.output] {
                throw RecipeError(
                    file: file, line: nil, key: "stages",
                    message: "\(st.recipe.lastPathComponent) and \(earlier) both train into \(r.output); "
                        + "give one another name (name: …)")
            }
            outputs[r.output] = st.recipe.lastPathComponent
        }
        if let unused = extra.first(where: { !taken.contains($0) }) {
            throw RecipeError(
                file: "--set", line: nil, key: String(unused.prefix { $0 != "=" }),
                message: "no stage of \(file) builds this part")
        }
        return recipes
    }

    /// Whether the override `assignment` applies to the stage recipe `node` (see `loadStages`).
    static func reaches(_ assignment: String, _ node: RecipeNode) -> Bool {
        let path = assignment.prefix { $0 != "=" }.split(separator: ".").map(String.init)
        guard path.count >= 2, path[0] == "model" else { return true }
        guard let part = node["model"]?[path[1]] else { return false }
        return path.count == 2 || path[2] == "init" || part["init"] == nil
    }
}
