import ReverieCore

/// The four ShapesWorld scores of a model, as `reverie eval --suite shapes` reports them (issue 6).
public struct ShapesSuiteReport: Sendable, Equatable, Codable {
    /// Captions that parse back to exactly the image's scene.
    public var captionExactMatch = Tally()
    /// What captions get right, attribute by attribute (their `exact` is `captionExactMatch`).
    public var caption = AttributeScores()
    /// What generated images show against what their prompts asked for.
    public var textToImage = AttributeScores()
    /// Edited images that show exactly the target scene, overall and per edit kind.
    public var edit = Tally()
    public var editByKind: [String: Tally] = [:]
    /// Two edits in a row (`ShapesWorld.editChain`), the second applied to the model's own output: the final image
    /// shows exactly the final target scene.
    public var twoTurnEdit = Tally()
    /// Edits drawn from the target image's own conditions (`editOracle`): the decoder's ceiling for edits, overall
    /// and per edit kind.
    public var editOracle = Tally()
    public var editOracleByKind: [String: Tally] = [:]
    /// What reconstructed images show against the original scene.
    public var reconstruction = AttributeScores()
    /// The single edits that missed their target, in item order.
    public var editFailures: [EditFailure] = []

    public init() {}
}

/// An edit whose image did not show its target scene: the item, what was asked, and the source, wanted and read
/// scenes as ``Scene/summary`` text.
public struct EditFailure: Sendable, Equatable, Codable {
    public var item: Int
    public var kind: String
    public var instruction: String
    public var source: String
    public var wanted: String
    public var got: String
    /// Whether the edit drawn from the target's own conditions missed too (nil when `editOracle` was not run): a
    /// miss the decoder makes whatever the LLM predicts.
    public var oracleMissed: Bool?
}

/// Runs a model over ShapesWorld items and scores it with the ``Evaluator``.
///
/// The model is given as closures, one per capability; leave one out (nil) to skip that score. Items come from
/// `world`, whose seed should be one the model never trained on.
public struct ShapesSuite: Sendable {
    /// Items per capability of an evaluation unless told otherwise (`reverie eval`, a pipeline's final one).
    public static let defaultCount = 100

    public let world: ShapesWorld
    public let count: Int
    public var evaluator = Evaluator()

    public init(world: ShapesWorld, count: Int) {
        self.world = world
        self.count = max(count, 0)
    }

    /// Scores the given capabilities on `count` items each; an error from a closure stops the run. `editOracle`
    /// draws an edit's target from the source and target images (no instruction): what the decoder alone can do.
    ///
    /// Items are independent (every closure call draws its own noise from a fixed seed), so they run concurrently,
    /// one per worker thread with single-threaded BLAS, and their tallies are added in item order: the report does
    /// not depend on the thread count. The closures must be safe to call from several threads at once. `items`
    /// limits the run to some of the `count` items (a rank's share); the shares' reports `merged` give the whole.
    public func run(
        items share: [Int]? = nil,
        caption: ((PlanarImage) throws -> String)? = nil,
        generate: ((String) throws -> PlanarImage)? = nil,
        edit: ((PlanarImage, String) throws -> PlanarImage)? = nil,
        reconstruct: ((PlanarImage) throws -> PlanarImage)? = nil,
        editOracle: ((PlanarImage, PlanarImage) throws -> PlanarImage)? = nil
    ) throws -> ShapesSuiteReport {
        let indices = share ?? Array(0..<count)
        let items = try ThreadPolicy.concurrentResults(indices.count) { k in
            try item(
                indices[k], caption: caption, generate: generate, edit: edit, reconstruct: reconstruct,
                editOracle: editOracle)
        }
        var report = ShapesSuiteReport()
        for item in items { report.add(item) }
        return report
    }

    /// One item's scores, as a report of its own.
    func item(
        _ i: Int, caption: ((PlanarImage) throws -> String)?, generate: ((String) throws -> PlanarImage)?,
        edit: ((PlanarImage, String) throws -> PlanarImage)?, reconstruct: ((PlanarImage) throws -> PlanarImage)?,
        editOracle: ((PlanarImage, PlanarImage) throws -> PlanarImage)?
    ) throws -> ShapesSuiteReport {
        var report = ShapesSuiteReport()
        if let caption {
            let sample = world.caption(at: i)
            let text = try caption(world.render(sample.scene))
            report.captionExactMatch.record(evaluator.captionMatches(text, truth: sample.scene))
            report.caption = evaluator.captionScore(text, truth: sample.scene)
        }
        if let generate {
            let sample = world.textToImage(at: i)
            report.textToImage = evaluator.score(try generate(sample.text), expected: sample.scene)
        }
        var oracleOK: Bool?
        if let editOracle {
            let sample = world.edit(at: i)
            let ok = evaluator.editIsCorrect(
                try editOracle(world.render(sample.source), world.render(sample.target)),
                target: sample.target)
            report.editOracle.record(ok)
            report.editOracleByKind[sample.kind.rawValue, default: Tally()].record(ok)
            oracleOK = ok
        }
        if let edit {
            let sample = world.edit(at: i)
            let read = evaluator.reader.read(try edit(world.render(sample.source), sample.instruction))
            let ok = read.matches(sample.target)
            if !ok {
                report.editFailures.append(
                    EditFailure(
                        item: i, kind: sample.kind.rawValue, instruction: sample.instruction,
                        source: sample.source.summary, wanted: sample.target.summary,
                        got: Scene.summary(background: read.background, objects: read.sceneObjects),
                        oracleMissed: oracleOK.map { !$0 }))
            }
            report.edit.record(ok)
            report.editByKind[sample.kind.rawValue, default: Tally()].record(ok)
            let chain = world.editChain(at: i)
            let drawn = try chain.reduce(world.render(chain[0].source)) { try edit($0, $1.instruction) }
            report.twoTurnEdit.record(evaluator.editIsCorrect(drawn, target: chain[chain.count - 1].target))
        }
        if let reconstruct {
            let scene = world.scene(at: i)
            report.reconstruction = evaluator.score(try reconstruct(world.render(scene)), expected: scene)
        }
        return report
    }
}

extension ShapesSuiteReport {
    /// The report of the union of disjoint shares of the items: tallies added, failures in item order.
    public static func merged(_ shares: [ShapesSuiteReport]) -> ShapesSuiteReport {
        var report = ShapesSuiteReport()
        for share in shares { report.add(share) }
        report.editFailures.sort { $0.item < $1.item }
        return report
    }

    /// Adds another report's tallies to this one and appends its failures after this one's.
    mutating func add(_ other: ShapesSuiteReport) {
        captionExactMatch = captionExactMatch + other.captionExactMatch
        caption = caption + other.caption
        textToImage = textToImage + other.textToImage
        edit = edit + other.edit
        editByKind.merge(other.editByKind, uniquingKeysWith: +)
        twoTurnEdit = twoTurnEdit + other.twoTurnEdit
        editOracle = editOracle + other.editOracle
        editOracleByKind.merge(other.editOracleByKind, uniquingKeysWith: +)
        reconstruction = reconstruction + other.reconstruction
        editFailures += other.editFailures
    }
}
