import Foundation
import ReverieCore
import ReverieRuntime
import ReverieData

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

    public init(node: RecipeNode) throws {
        let top = try RecipeSection(node)
        guard !top.has("stages") else {
            throw top.error("stages", "this is a pipeline recipe; run it with `reverie train`, not as a stage")
        }
        file = node.file
        resolvedYAML = node.yaml().trimmingCharacters(in: .newlines) + "\n"
        stage = StageKind(rawValue: try top.choice("stage", StageKind.allCases.map(\.rawValue), default: "mllm"))!
        guard top.has("stage") else { throw top.error("stage", "missing: one of siglip, vae, decoder, mllm") }
        seed = UInt64(try top.int("seed", default: 1, min: 0))
        root = try top.string("root", default: "runs/shapes")
        name = try top.string("name", default: stage.rawValue)
        guard Self.isPlainName(name) else {
            throw top.error("name", "'\(name)' must be a plain directory name (the run goes to <root>/<name>)")
        }
        output = try top.string("output") ?? Self.runDirectory(root: root, name: name)
        if let d = try top.section("data") { data = try Self.readData(d) }
        if let m = try top.section("model") { try readModel(m) } else { throw top.error("model", "missing") }
        if data.editPairs > 0, stage != .decoder || (sources[.unet] == .build && parts.unet?.sourceLatent != true),
           let d = try top.section("data") {
            throw d.error("edit_pairs", stage != .decoder ? "only the decoder stage draws edit pairs"
                          : "edit pairs need a UNet that takes the source latent (model.unet.source_latent: true)")
        }
        freeze = try (top.strings("freeze") ?? []).enumerated().map { i, name in
            guard let p = PartName(rawValue: name) else {
                let hint = nearestKey(to: name, in: PartName.allCases.map(\.rawValue)).map { "; did you mean '\($0)'?" }
                throw top.error("freeze", "[\(i)] '\(name)' is not a part\(hint ?? "")")
            }
            return p
        }
        if let l = try top.section("loss") {
            loss = try Self.readLoss(l)
            if loss.change > 0, stage != .mllm || (sources[.output] == .build && parts.output?.changeHead != true) {
                throw l.error("change", stage != .mllm ? "only the mllm stage has a change head"
                              : "the change loss needs model.output.change_head: true")
            }
            if loss.changeShortfall > 0,
               stage != .mllm || (sources[.output] == .build && parts.output?.residual != true) {
                throw l.error("change_shortfall", stage != .mllm ? "only the mllm stage predicts an edit's change"
                              : "the change shortfall needs model.output.residual: true")
            }
            if loss.shapeProbe > 0, stage != .mllm {
                throw l.error("shape_probe", "only the mllm stage predicts conditions for a shape probe to read")
            }
        }
        if let o = try top.section("optim") { optim = try Self.readOptim(o) }
        if let t = try top.section("train") { try readLoop(train: t) }
        if let e = top.raw("eval") {
            eval = try RecipeDecoder.decode(EvalSpec.self, from: e, path: "eval")
            guard eval.seed != data.worldSeed else {
                throw RecipeError(file: e.file, line: e["seed"]?.line ?? e.line, key: "eval.seed",
                                  message: "equals data.world_seed \(data.worldSeed): evaluate on a world never trained on")
            }
        }
        if let c = try top.section("checkpoint") {
            loop.checkpointEvery = try c.int("every", default: 0, min: 0)
            try c.finish()
        }
        try top.finish()
        try checkParts(top)
    }

    static func readData(_ s: RecipeSection) throws -> DataSpec {
        var d = DataSpec()
        d.worldSeed = UInt64(try s.int("world_seed", default: 1, min: 0))
        d.canvas = try s.int("canvas", default: 64)
        d.editPairs = try s.double("edit_pairs", default: 0, range: 0...1)
        if let m = try s.section("mixture") {
            d.mixture = try DataSpec.kinds.compactMap { k in
                try m.double(k).map { (k, $0) }
            }
            try m.finish()
            guard d.mixture.contains(where: { $0.1 > 0 }), !d.mixture.contains(where: { $0.1 < 0 }) else {
                throw s.error("mixture", "weights must be ≥ 0 with at least one positive")
            }
        }
        if let k = try s.section("edit_kinds") {
            d.editKinds = try EditKind.allCases.compactMap { kind in try k.double(kind.rawValue).map { (kind.rawValue, $0) } }
            try k.finish()
            guard d.editKinds.contains(where: { $0.1 > 0 }), !d.editKinds.contains(where: { $0.1 < 0 }) else {
                throw s.error("edit_kinds", "weights must be ≥ 0 with at least one positive")
            }
        }
        try s.finish()
        return d
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

    func checkParts(_ top: RecipeSection) throws {
        for p in stage.requiredParts where sources[p] == nil {
            throw top.error("model", "the \(stage.rawValue) stage needs a '\(p.rawValue)' part")
        }
        for p in PartName.allCases where sources[p] != nil && !stage.requiredParts.contains(p) {
            throw top.error("model", "the \(stage.rawValue) stage does not use a '\(p.rawValue)' part")
        }
    }

    static func readLoss(_ s: RecipeSection) throws -> LossSpec {
        var l = LossSpec()
        l.ce = try s.double("ce", default: l.ce, range: 0...1e6)
        l.regression = try s.double("regression", default: l.regression, range: 0...1e6)
        l.diffusion = try s.double("diffusion", default: l.diffusion, range: 0...1e6)
        l.diffusionExact = try s.double("diffusion_exact", default: l.diffusionExact, range: 0...1)
        l.regressionKind = try s.choice("regression_kind", default: l.regressionKind)
        l.smoothL1Beta = try s.double("smooth_l1_beta", default: l.smoothL1Beta, range: 1e-6...1e6)
        l.objectWeight = try s.double("object_weight", default: l.objectWeight)
        guard l.objectWeight >= 0 else { throw s.error("object_weight", "must be ≥ 0") }
        l.change = try s.double("change", default: l.change, range: 0...1e6)
        l.changeShortfall = try s.double("change_shortfall", default: l.changeShortfall, range: 0...1e6)
        l.shapeProbe = try s.double("shape_probe", default: l.shapeProbe, range: 0...1e6)
        l.kl = try s.double("kl", default: l.kl, range: 0...1e6)
        l.conditionDropout = try s.double("condition_dropout", default: l.conditionDropout, range: 0...1)
        l.conditionNoise = try s.double("condition_noise", default: l.conditionNoise, range: 0...10)
        l.timestepPower = try s.double("timestep_power", default: l.timestepPower, range: 0.1...10)
        l.patchLabels = try s.double("patch_labels", default: l.patchLabels, range: 0...1e6)
        l.patchColors = try s.double("patch_colors", default: l.patchColors, range: 0...1e6)
        l.patchHead = try s.choice("patch_head", default: l.patchHead)
        l.reconstruction = try s.choice("reconstruction", default: l.reconstruction)
        try s.finish()
        return l
    }

    static func readOptim(_ s: RecipeSection) throws -> OptimSpec {
        var o = OptimSpec()
        o.lr = try s.double("lr", default: o.lr, range: 0...10)
        o.minLR = try s.double("min_lr", default: o.minLR, range: 0...10)
        o.weightDecay = try s.double("weight_decay", default: o.weightDecay, range: 0...10)
        o.beta1 = try s.double("beta1", default: o.beta1, range: 0...0.999999)
        o.beta2 = try s.double("beta2", default: o.beta2, range: 0...0.999999)
        o.warmup = try s.int("warmup", default: o.warmup, min: 0)
        o.schedule = try s.choice("schedule", default: o.schedule)
        o.clip = try s.double("clip", default: o.clip, range: 0...1e9)
        guard o.minLR <= o.lr else { throw s.error("min_lr", "exceeds lr \(o.lr)") }
        try s.finish()
        return o
    }

    mutating func readLoop(train s: RecipeSection) throws {
        loop.steps = try s.int("steps", default: loop.steps)
        loop.batch = try s.int("batch", default: loop.batch)
        loop.accumulate = try s.int("accumulate", default: loop.accumulate)
        loop.logEvery = try s.int("log_every", default: loop.logEvery)
        guard optim.warmup <= loop.steps else { throw s.error("steps", "shorter than optim.warmup \(optim.warmup)") }
        try s.finish()
    }

}
