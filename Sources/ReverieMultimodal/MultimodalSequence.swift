import ReverieCore
import ReverieData
import ReverieLanguage

/// One sequence in token space, as ReverieData's `ExampleBuilder` lays it out: one `<image>` token per input
/// image, one `<img>` token per target image, and a loss mask over the tokens.
public struct MultimodalExample: Sendable {
    /// Token ids.
    public var tokens: [Int]
    /// 1 where the token is a prediction target, else 0 (same length as `tokens`).
    public var lossMask: [Float]
    /// Input images [3, H, W] in [0, 1], one per `<image>`, in order.
    public var inputImages: [Tensor]
    /// Target images [3, H, W] in [0, 1], one per `<img>`, in order (needed for the regression loss only).
    public var targetImages: [Tensor]

    public init(tokens: [Int], lossMask: [Float], inputImages: [Tensor] = [], targetImages: [Tensor] = []) {
        (self.tokens, self.lossMask) = (tokens, lossMask)
        (self.inputImages, self.targetImages) = (inputImages, targetImages)
    }

    /// The example ReverieData built.
    public init(_ example: SequenceExample) {
        self.init(
            tokens: example.tokens, lossMask: example.lossMask, inputImages: example.inputImages,
            targetImages: example.targetImages)
    }
}

/// The result of one forward pass over an expanded sequence of length L.
public struct MultimodalForwardOutput {
    /// [1, L, vocab]; nil from `forward(batch:logits: false)` (the loss applies the head at text targets only).
    public var logits: Tensor?
    /// Final hidden states [1, L, D].
    public var hidden: Tensor
    /// Per position, the token id it must predict next (cross-entropy target), or -100 where the next element is
    /// a visual token, a query, a token outside the loss mask, or the end.
    public var targets: [Int]
    /// Predicted conditions [N, K, Dc] for the N `<img>` tokens, nil when there are none.
    public var conditions: Tensor?
    /// Per `<img>`, the first of its K output positions: the first query (`queries`), or the `<img>` token itself
    /// (`autoregressive`).
    public var outputStarts: [Int]
    /// Residual output: per `<img>`, the conditions [1, K, Dc] of the image it follows (added to its prediction),
    /// nil where none precedes it; empty otherwise.
    public var bases: [Tensor?] = []
    /// The change head's logits [N, K] (`MultimodalModel.changeHead`), nil without it.
    public var changeLogits: Tensor?
}

extension MultimodalModel {
    /// One element of the expanded sequence: a token (with its loss flag) or a non-token position.
    enum Element: Equatable {
        case token(Int, loss: Bool)
        case visual
        case query
    }

    /// Checks an example against the model: ids in the vocabulary, mask length, image counts and shapes.
    func validate(_ ex: MultimodalExample, needTargets: Bool) throws {
        let vocab = llm.config.vocabSize
        guard !ex.tokens.isEmpty else { throw MultimodalError.invalidExample(detail: "no tokens") }
        guard ex.lossMask.count == ex.tokens.count else {
            throw MultimodalError.invalidExample(
                detail: "loss mask has \(ex.lossMask.count) entries for \(ex.tokens.count) tokens")
        }
        if let bad = ex.tokens.first(where: { !(0..<vocab).contains($0) }) {
            throw MultimodalError.invalidExample(detail: "token id \(bad) outside the vocabulary 0..<\(vocab)")
        }
        let inputs = ex.tokens.filter { $0 == config.imageTokenId }.count
        guard inputs == ex.inputImages.count else {
            throw MultimodalError.invalidExample(
                detail: "\(inputs) <image> tokens but \(ex.inputImages.count) input images")
        }
        let outputs = ex.tokens.filter { $0 == config.imageBeginTokenId }.count
        if needTargets, outputs != ex.targetImages.count {
            throw MultimodalError.invalidExample(
                detail: "\(outputs) <img> tokens but \(ex.targetImages.count) target images")
        }
    }

    /// Runs one example: splices visual tokens in at `<image>`, appends K queries after each `<img>`, runs the LLM
    /// on the embeddings and the head on the queries' hidden states. Token sequence [T] → expanded length L =
    /// T + (Q − 1)·#image + K·#img.
    public func forward(_ ex: MultimodalExample) throws -> MultimodalForwardOutput {
        try forward(batch: [ex])[0]
    }

    /// `forward` of several examples: the expanded sequences are grouped by length (`lengthGroups`), and each group
    /// is right-padded with zeros to its longest and run through the LLM in one pass [B, L, D]. Attention is causal,
    /// so no position attends to the padding after it and each example's outputs equal its own `forward` (up to
    /// summation order). Without `logits` the LLM's head is left out (`MultimodalForwardOutput.logits` nil).
    public func forward(batch: [MultimodalExample], logits: Bool = true) throws -> [MultimodalForwardOutput] {
        for ex in batch { try validate(ex, needTargets: outputMode.needsTargets) }
        let needBases = config.residualConditions || config.sourceQueries
        let inputs = try encodeInputs(batch, conditions: needBases)
        let laid = try zip(batch, inputs).map { ex, input in
            let bases: [Tensor?] =
                !needBases
                ? []
                : try outputBaseImages(ex).map { image in
                    switch image {
                    case let .input(i): try input?.conditions?.slice(axis: 0, start: i, end: i + 1)
                    case let .target(j): try targetConditions(images: ex.targetImages[j].unsqueeze(0))
                    case nil: nil
                    }
                }
            let (x, elements, starts) = try sequenceEmbeddings(ex, bases: bases, visual: input?.visual)
            return (x, elements, starts, bases)
        }
        let d = llm.config.hiddenSize
        var rows = [(hidden: Tensor, logits: Tensor?)?](repeating: nil, count: laid.count)
        for group in Self.lengthGroups(laid.map { $0.0.shape[1] }) {
            let longest = group.map { laid[$0].0.shape[1] }.max() ?? 0
            let x =
                group.count == 1
                ? laid[group[0]].0
                : try concat(
                    group.map { i in
                        let x = laid[i].0
                        return x.shape[1] == longest
                            ? x : try concat([x, Tensor(zeros: [1, longest - x.shape[1], d])], axis: 1)
                    }, axis: 0)  // [G, L, D]
            let hidden = try llm.finalHiddenStates(inputEmbeddings: x)  // [G, L, D]
            let head = logits ? try llm.head(hidden) : nil
            for (j, i) in group.enumerated() {
                let n = laid[i].0.shape[1]
                func mine(_ t: Tensor) throws -> Tensor {
                    let row = group.count == 1 ? t : try t.slice(axis: 0, start: j, end: j + 1)
                    return n == longest ? row : try row.slice(axis: 1, start: 0, end: n)
                }
                rows[i] = (try mine(hidden), try head.map(mine))
            }
        }
        return try laid.enumerated().map { i, item in
            let (_, elements, outputStarts, bases) = item
            guard let (hidden, logits) = rows[i] else { throw MultimodalError.invalidExample(detail: "unbatched") }
            var targets = Array(repeating: -100, count: elements.count)
            for p in 0..<(elements.count - 1) {
                if case let .token(id, loss: true) = elements[p + 1] { targets[p] = id }
            }
            let residual = config.residualConditions ? bases : []
            let blocks = try outputHidden(hidden, outputStarts: outputStarts)  // sliced once for both heads
            return MultimodalForwardOutput(
                logits: logits, hidden: hidden, targets: targets,
                conditions: try blocks.map { try conditions(blocks: $0, bases: residual) },
                outputStarts: outputStarts, bases: residual,
                changeLogits: try blocks.flatMap { try changeLogits(blocks: $0) })
        }
    }

    /// The length L of `tokens` once expanded: each `<image>` becomes the projector's Q visual tokens, each `<img>`
    /// is followed by K queries (what `forward` runs the LLM on; the measure of an example's cost).
    public func expandedLength(tokens: [Int]) -> Int {
        let grid = visionEncoder.config.gridSize
        let q = projector.outputTokens(patches: grid * grid), k = config.numQueries
        return tokens.reduce(config.prefixTokenIds.count) { n, t in
            n + (t == config.imageTokenId ? q : t == config.imageBeginTokenId ? 1 + k : 1)
        }
    }

    /// Partitions sequences of the given lengths into groups of similar length that are cheap to run padded:
    /// sorted by length, cut where Σ (group size × group's longest) + `overhead` per group is least (dynamic
    /// programming). A batch of equal lengths stays one group; a few long sequences among short ones get their own.
    /// Returns indices into `lengths`, each group sorted by length.
    public static func lengthGroups(_ lengths: [Int], overhead: Int = 96) -> [[Int]] {
        let order = lengths.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        let n = order.count
        guard n > 1 else { return n == 0 ? [] : [order] }
        // best[e]: least cost of the first e sorted sequences; cut[e]: where its last group starts.
        var best = [Int](repeating: .max, count: n + 1), cut = [Int](repeating: 0, count: n + 1)
        best[0] = 0
        for e in 1...n {
            for s in 0..<e {
                let cost = best[s] + (e - s) * lengths[order[e - 1]] + overhead
                if cost < best[e] {
                    best[e] = cost
                    cut[e] = s
                }
            }
        }
        var groups: [[Int]] = []
        var e = n
        while e > 0 {
            groups.append(Array(order[cut[e]..<e]))
            e = cut[e]
        }
        return groups.reversed()
    }

    /// Per `<img>` block, the image it follows (residual output): the latest input image or earlier output image
    /// before it, [3, H, W]; nil when there is none, or when an earlier output's image is not given.
    func outputBases(_ ex: MultimodalExample) -> [Tensor?] {
        outputBaseImages(ex).map { image in
            switch image {
            case let .input(i): ex.inputImages[i]
            case let .target(j): ex.targetImages[j]
            case nil: nil
            }
        }
    }

    /// Where an output block's base image comes from: the example's input image i or its target image j.
    enum BaseImage {
        case input(Int)
        case target(Int)
    }

    /// `outputBases` as indices into the example's input and target images.
    func outputBaseImages(_ ex: MultimodalExample) -> [BaseImage?] {
        var latest: BaseImage?
        var bases: [BaseImage?] = []
        var inputIndex = 0
        for token in ex.tokens {
            if token == config.imageTokenId, inputIndex < ex.inputImages.count {
                latest = .input(inputIndex)
                inputIndex += 1
            } else if token == config.imageBeginTokenId {
                bases.append(latest)
                latest = bases.count <= ex.targetImages.count ? .target(bases.count - 1) : nil
            }
        }
        return bases
    }

    /// Every input image of `batch` through the encoder in one pass: per example (nil without input images), its
    /// images' visual tokens [n, Q, D] and, with `conditions`, their pooled conditions [n, K, Dc] (the
    /// `targetConditions` of the same images, from the same encoder run).
    func encodeInputs(_ batch: [MultimodalExample], conditions: Bool) throws
        -> [(visual: Tensor, conditions: Tensor?)?]
    {
        let images = batch.flatMap(\.inputImages)
        guard !images.isEmpty else { return batch.map { _ in nil } }
        let features = try encoderFeatures(stack(images, axis: 0))  // [N, P, Dv]
        let visual = try visualTokens(features: features)  // [N, Q, D]
        let pooled =
            conditions
            ? try Self.pool(features: features, grid: visionEncoder.config.gridSize, side: config.querySide ?? 1) : nil
        var start = 0
        return try batch.map { ex in
            let n = ex.inputImages.count
            defer { start += n }
            guard n > 0 else { return nil }
            func mine(_ t: Tensor) throws -> Tensor {
                n == images.count ? t : try t.slice(axis: 0, start: start, end: start + n)
            }
            return (try mine(visual), try pooled.map(mine))
        }
    }

    /// The LLM input of a validated example: embeddings [1, L, D], what each position holds, and where each block
    /// of K queries starts. `bases[i]` [1, K, Dc]: the conditions of the image output block i follows, which
    /// source-informed queries read (`sourceInput`).
    /// `visual`: the example's visual tokens when already computed (`encodeInputs`).
    func sequenceEmbeddings(_ ex: MultimodalExample, bases: [Tensor?] = [], visual given: Tensor? = nil) throws
        -> (Tensor, [Element], [Int])
    {
        // visual tokens of every input image at once: [N, Q, D]
        let visual = try given ?? (ex.inputImages.isEmpty ? nil : visualTokens(stack(ex.inputImages, axis: 0)))
        // What follows each <img>, as the output mode lays it out (teacher forcing reads the targets' conditions).
        let targets =
            outputMode.needsTargets && !ex.targetImages.isEmpty
            ? try targetConditions(images: stack(ex.targetImages, axis: 0)) : nil
        let blockInputs = try outputMode.blockInputs(
            blocks: ex.tokens.filter { $0 == config.imageBeginTokenId }.count, targets: targets,
            queryPositions: queryPositions())
        var pieces: [Tensor] = []
        var elements: [Element] = []
        var run: [Int] = []
        var outputStarts: [Int] = []
        var imageIndex = 0
        func flush() throws {
            guard !run.isEmpty else { return }
            pieces.append(try llm.embed(ids: run, shape: [1, run.count]))  // [1, n, D]
            run.removeAll()
        }
        for id in config.prefixTokenIds {  // the tokenizer's template start, never a target
            run.append(id)
            elements.append(.token(id, loss: false))
        }
        for (token, mask) in zip(ex.tokens, ex.lossMask) {
            if token == config.imageTokenId, let visual {
                try flush()
                let v = try visual.slice(axis: 0, start: imageIndex, end: imageIndex + 1)  // [1, Q, D]
                imageIndex += 1
                pieces.append(v)
                elements += Array(repeating: .visual, count: v.shape[1])
            } else {
                run.append(token)
                elements.append(.token(token, loss: mask > 0))
                if token == config.imageBeginTokenId {
                    try flush()
                    let block = outputStarts.count
                    outputStarts.append(elements.count + outputMode.predictionOffset)
                    if var inputs = blockInputs[block] {  // [1, n, D]
                        if let sourceInput, block < bases.count, let base = bases[block] {
                            inputs = try inputs + sourceInput(base)  // source-informed queries read the base
                        }
                        pieces.append(inputs)
                        elements += Array(repeating: .query, count: inputs.shape[1])
                    }
                }
            }
        }
        try flush()
        let x = pieces.count == 1 ? pieces[0] : try concat(pieces, axis: 1)  // [1, L, D]
        guard x.shape[1] <= llm.config.maxPositionEmbeddings else {
            let limit = llm.config.maxPositionEmbeddings
            throw MultimodalError.invalidExample(
                detail: "expanded length \(x.shape[1]) exceeds max_position_embeddings \(limit)")
        }
        return (x, elements, outputStarts)
    }
}
