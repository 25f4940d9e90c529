import Foundation
import ReverieCore
import ReverieData
import ReverieNN
import ReverieRuntime

extension Recipe {
    /// Loads a stage recipe, applies `--set` overrides, and checks every key and value (not the model's shapes,
    /// which `StageBuilder` checks when it builds).
    ///
    /// - Throws: `RecipeError` naming file, line and key: unknown keys (with the nearest valid one), wrong types,
    ///   out-of-range values, a pipeline file given where a stage is expected.
    public static func load(_ url: URL, overrides: [String] = []) throws -> Recipe {
        var (node, _) = try RecipeNode.load(url)
        for o in overrides { try node.override(o) }
        return try Recipe(node: node)
    }

    /// This recipe with more `--set` overrides applied (read and checked again).
    public func with(_ overrides: [String]) throws -> Recipe {
        var n = node
        for o in overrides { try n.override(o) }
        return try Recipe(node: n)
    }

    public init(node: RecipeNode) throws {
        let top = try RecipeSection(node)
        guard !top.has("stages") else {
            throw top.error("stages", "this is a pipeline recipe; run it with `reverie train`, not as a stage")
        }
        (file, self.node) = (node.file, node)
        resolvedYAML = node.yaml().trimmingCharacters(in: .newlines) + "\n"
        guard let kind = try top.string("stage") else {
            throw top.error("stage", "missing: one of \(StageRegistry.kinds.joined(separator: ", "))")
        }
        guard StageRegistry.kinds.contains(kind) else {
            let hint = nearestKey(to: kind, in: StageRegistry.kinds).map { " (did you mean '\($0)'?)" } ?? ""
            throw top.error("stage", "'\(kind)' is not one of \(StageRegistry.kinds.joined(separator: ", "))\(hint)")
        }
        stage = StageKind(kind)
        let definition = try StageRegistry.entry(stage)
        loss = definition.defaultLoss()
        seed = UInt64(try top.int("seed", default: 1, min: 0))
        root = try top.string("root", default: Self.defaultRoot)
        name = try top.string("name", default: stage.rawValue)
        guard Self.isPlainName(name) else {
            throw top.error("name", "'\(name)' must be a plain directory name (the run goes to <root>/<name>)")
        }
        output = try top.string("output") ?? Self.runDirectory(root: root, name: name)
        if let d = top.raw("data") {
            data = try RecipeDecoder.decode(DataSpec.self, from: d, path: "data")
            let shared: Set = ["world_seed", "items", "canvas", "sources", "manifest", "eval_manifest"]
            if case let .map(pairs) = d.value,
                let key = pairs.map(\.key).first(where: { !shared.contains($0) && !definition.dataKeys.contains($0) })
            {
                let readers = StageRegistry.stages(withDataKey: key)
                let hint = readers.isEmpty ? "" : "; only the \(readers.joined(separator: ", ")) stage reads it"
                throw RecipeDecoder.locate(
                    ConfigurationError(key: key, "the \(stage) stage does not read it\(hint)"),
                    in: d, path: "data")
            }
        }
        if let m = try top.section("model") { try readModel(m) } else { throw top.error("model", "missing") }
        for (i, name) in (try top.strings("freeze") ?? []).enumerated() {
            if let p = PartName(rawValue: name) {
                freeze.append(p)
            } else if name.contains("."), let pattern = KeyPattern(name) {
                freezePatterns.append(pattern)
            } else {
                let hint = nearestKey(to: name, in: PartName.allCases.map(\.rawValue)).map { "; did you mean '\($0)'?" }
                throw top.error(
                    "freeze",
                    "[\(i)] '\(name)' is neither a part nor a key pattern (llm.model.layers.0-11.*)\(hint ?? "")")
            }
        }
        do {
            loss = try top.raw("loss").map { try definition.decodeLoss($0, "loss") } ?? definition.defaultLoss()
        } catch var e as RecipeError where e.key.hasPrefix("loss.") && e.message.hasPrefix("unknown key") {
            let readers = StageRegistry.stages(withLossKey: String(e.key.dropFirst("loss.".count)))
            if !readers.isEmpty {
                e.message = "not a loss of the \(stage) stage; only the \(readers.joined(separator: ", ")) stage has it"
            }
            throw e
        }
        if let o = top.raw("optim") { optim = try RecipeDecoder.decode(OptimSpec.self, from: o, path: "optim") }
        if let t = top.raw("train") {
            loop = try RecipeDecoder.decode(LoopSpec.self, from: t, path: "train")
            guard optim.warmup <= loop.steps else {
                throw Self.locate(t, "train", "steps", "shorter than optim.warmup \(optim.warmup)")
            }
        }
        if let e = top.raw("eval") {
            eval = try RecipeDecoder.decode(EvalSpec.self, from: e, path: "eval")
            guard !data.worldSeeds.contains(eval.seed) else {
                throw Self.locate(
                    e, "eval", "seed", "equals the data's world_seed \(eval.seed): evaluate on a world never trained on"
                )
            }
        }
        if let c = top.raw("checkpoint") {
            loop.checkpointEvery = try RecipeDecoder.decode(LoopSpec.Checkpointing.self, from: c, path: "checkpoint")
                .every
        }
        try top.finish()
        try checkParts(top, definition.requiredParts)
        try definition.check(self)
        let training = try data.training()
        for use in definition.dataUses(self) where !training.has(use) {
            throw error("data", "the \(stage) stage trains on \(use.rawValue); \(training.name) has none")
        }
    }

    static func locate(_ node: RecipeNode, _ path: String, _ key: String, _ message: String) -> RecipeError {
        RecipeDecoder.locate(ConfigurationError(key: key, message), in: node, path: path)
    }

    mutating func readModel(_ m: RecipeSection) throws {
        for name in m.keys {
            guard let part = PartName(rawValue: name), let node = m.raw(name) else { continue }  // finish() reports
            guard node["init"] != nil else {
                sources[part] = .build
                try parts.read(part, node)
                continue
            }
            let s = try RecipeSection(node, path: "model.\(name)")
            guard let source = try s.string("init") else { continue }
            if source.hasPrefix("hf:") {
                sources[part] = .pretrained(
                    directory: try pretrainedDirectory(String(source.dropFirst(3)), part, node, s), line: node.line)
                continue
            }
            if Self.isRunName(source) {
                sources[part] = .checkpoint(path: Self.stageOutput(root: root, source), run: source, line: node.line)
            } else {
                sources[part] = .checkpoint(path: source, run: nil, line: node.line)
                guard FileManager.default.fileExists(atPath: source) else {
                    throw s.error("init", "checkpoint file '\(source)' does not exist")
                }
            }
            try s.finish()  // options beside `init` would be silently ignored: reject them
        }
        for p in PartName.allCases { _ = m.raw(p.rawValue) }  // known keys, for the nearest-key hint
        try m.finish()
        do {
            try parts.validate()
        } catch let e as ConfigurationError {
            throw RecipeDecoder.locate(e, in: m.node, path: "model")
        }
    }

    func checkParts(_ top: RecipeSection, _ required: [PartName]) throws {
        for p in required where sources[p] == nil {
            throw top.error("model", "the \(stage.rawValue) stage needs a '\(p.rawValue)' part")
        }
        for p in PartName.allCases where sources[p] != nil && !required.contains(p) {
            throw top.error("model", "the \(stage.rawValue) stage does not use a '\(p.rawValue)' part")
        }
    }

}
