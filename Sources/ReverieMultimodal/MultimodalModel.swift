import ReverieCore
import ReverieDiffusion
import ReverieLanguage
import ReverieNN
import ReverieProjectors
import ReverieVision

/// The composed model of docs/DESIGN.md §1: vision encoder → projector → language model → output head, with an
/// optional frozen diffusion decoder that renders the predicted conditions.
///
/// - Reading: every `<image>` token of a sequence is replaced by the projector's Q visual tokens of one input image
///   (the language model runs on input embeddings).
/// - Writing: every `<img>` token opens an output block laid out by the output mode (`OutputMode`: `queries`, K
///   learned query embeddings whose final hidden states give all K conditions in one pass; `autoregressive`, one
///   condition at a time); the block's hidden states go through the output head to predicted conditions [K, Dc].
/// - Regression target (`targetConditions(images:)`): the vision encoder's last-layer patch features of the target
///   image [g × g, Dv], average-pooled on the patch grid to s × s = K tokens, row-major → [K, Dv]. So Dc = Dv, and
///   the decoder is conditioned on exactly this space (it is trained on the same encoder's pooled features).
///
/// Pixels are `[B, 3, H, W]` in [0, 1]; the model maps them to [-1, 1] (SigLIP's mean 0.5, std 0.5) before the
/// encoder. Parameter keys: `vision_encoder.*`, `projector.*`, `llm.*`, `output_queries`, `output_head.*`,
/// `source_input.*`, `decoder.*`.
public final class MultimodalModel: Module {
    public let config: MultimodalConfig
    public let visionEncoder: VisionEncoder
    public let projector: any Projector
    public let llm: LanguageModel
    /// How the LLM writes an image's conditions after `<img>` (`config.outputMode`), with its own parameters.
    public let outputMode: any OutputMode
    /// K learned query embeddings [K, D] (`queries` mode only).
    public var outputQueries: Tensor? { (outputMode as? QueriesOutput)?.queries }
    /// Maps a condition back to an input embedding, Dc → D (`autoregressive` mode only).
    public var conditionInput: Linear? { (outputMode as? AutoregressiveOutput)?.conditionInput }
    public let outputHead: OutputHead
    /// Learned positions of the visual tokens (`config.visualPositions`); `grid` ones are also added to output
    /// queries on the same grid (K = Q).
    public let visualPositions: VisualPositions?
    /// The decoder that draws predicted conditions; frozen at construction.
    public let decoder: LatentDiffusionDecoder?
    /// Maps the conditions of the image an output block follows onto its queries, Dc → D (`config.sourceQueries`).
    /// Starts at zero, so a new model begins with plain queries.
    public let sourceInput: Linear?
    /// Per output query, the logit that its condition token changes from the image the block follows, D → 1
    /// (`config.changeHead`).
    public let changeHead: Linear?

    /// Composes the parts and checks that their widths fit. The decoder, when given, is frozen here.
    ///
    /// - Throws: `MultimodalError.invalidConfiguration` when the projector's width differs from the LLM's, the
    ///   special token ids are outside the vocabulary, K is not a square whose side divides the patch grid, or the
    ///   decoder's condition width differs from the encoder's.
    public init(
        config: MultimodalConfig, visionEncoder: VisionEncoder, projector: any Projector, llm: LanguageModel,
        decoder: LatentDiffusionDecoder? = nil, rng: inout RNG
    ) throws {
        let d = llm.config.hiddenSize
        let dv = visionEncoder.config.hiddenSize
        func bad(_ key: String, _ detail: String) -> MultimodalError { .invalidConfiguration(key: key, detail: detail) }
        guard projector.outputDim == d else {
            throw bad("projector", "output width \(projector.outputDim) differs from the LLM hidden size \(d)")
        }
        for (key, id) in [("image_token_id", config.imageTokenId), ("image_begin_token_id", config.imageBeginTokenId)]
        where !(0..<llm.config.vocabSize).contains(id) {
            throw bad(key, "\(id) is outside the vocabulary 0..<\(llm.config.vocabSize)")
        }
        guard config.imageTokenId != config.imageBeginTokenId else {
            throw bad("image_begin_token_id", "equals image_token_id \(config.imageTokenId)")
        }
        guard let side = config.querySide, visionEncoder.config.gridSize.isMultiple(of: side) else {
            throw bad(
                "num_queries",
                "\(config.numQueries) must be s² with s dividing the patch grid "
                    + "\(visionEncoder.config.gridSize)")
        }
        // Each module seeds from its key (`RNG.forKey`): none's weights depend on which others the model has.
        var modeRNG = rng.forKey("output_mode")
        let mode = try OutputModeRegistry.make(
            config.outputMode.rawValue,
            dimensions: OutputDimensions(tokens: config.numQueries, hidden: d, condition: dv),
            rng: &modeRNG)
        for (key, on) in [
            ("residual", config.residualConditions), ("source_queries", config.sourceQueries),
            ("change_head", config.changeHead),
        ] where on && !type(of: mode).readsTheImageItFollows {
            throw bad(
                key, "needs an output mode whose blocks read the image they follow (queries), not \(config.outputMode)")
        }
        if let decoder, decoder.nullCondition.dim != dv {
            throw bad("decoder", "condition width \(decoder.nullCondition.dim) differs from the encoder width \(dv)")
        }
        self.config = config
        self.visionEncoder = visionEncoder
        self.projector = projector
        self.llm = llm
        outputMode = mode
        var headRNG = rng.forKey("output_head")
        outputHead = try OutputHead(
            kind: config.head, inputDim: d, outputDim: dv, hidden: config.headHidden,
            rng: &headRNG)
        if config.visualPositions != .none {
            let q = projector.outputTokens(patches: visionEncoder.config.gridSize * visionEncoder.config.gridSize)
            var g = rng.forKey("visual_positions")
            visualPositions = try VisualPositions(kind: config.visualPositions, count: q, dim: d, rng: &g)
        } else {
            visualPositions = nil
        }
        self.decoder = decoder
        if config.sourceQueries {
            var g = rng.forKey("source_input")
            let input = try Linear(inFeatures: dv, outFeatures: d, rng: &g)
            for t in input.parameters() { Init.constant(t, 0) }
            sourceInput = input
        } else {
            sourceInput = nil
        }
        var changeRNG = rng.forKey("change_head")
        changeHead = config.changeHead ? try Linear(inFeatures: d, outFeatures: 1, rng: &changeRNG) : nil
        super.init()
        if let decoder { _ = try decoder.freeze() }
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("vision_encoder", visionEncoder)
        v.child("projector", projector)
        v.child("llm", llm)
        outputMode.visit(&v)  // the mode's parameters sit at the top level (`output_queries`, `condition_input`)
        v.child("output_head", outputHead)
        v.child("visual_positions", visualPositions)
        v.child("source_input", sourceInput)
        v.child("change_head", changeHead)
        v.child("decoder", decoder)
    }

    /// The visual `grid` positions [1, K, D] when they lie on the K-token grid of an output block (an output mode
    /// adds them to its inputs, so writing the token at (r, c) and reading the one there share a position).
    func queryPositions() throws -> Tensor? {
        let k = config.numQueries
        guard let visualPositions, visualPositions.kind == .grid, visualPositions.count == k else { return nil }
        return try visualPositions().reshape([1, k, llm.config.hiddenSize])
    }

    /// The K output queries [1, K, D] (`queries` mode): learned, plus the visual `grid` positions when the queries
    /// lie on the same grid; nil in another mode.
    func queryEmbeddings() throws -> Tensor? {
        guard outputMode is QueriesOutput else { return nil }
        return try outputMode.blockInputs(blocks: 1, targets: nil, queryPositions: queryPositions())[0]
    }

    /// Dc, the width of a predicted condition token (the encoder's width).
    public var conditionDim: Int { visionEncoder.config.hiddenSize }

    /// Whether any encoder parameter trains; when none does, the encoder runs without recording a graph.
    var encoderTrains: Bool { !visionEncoder.trainableParameters().isEmpty }

    /// pixels [B, 3, H, W] in [0, 1] → encoder patch features [B, P, Dv]
    public func encoderFeatures(_ pixels: Tensor) throws -> Tensor {
        let c = visionEncoder.config
        guard pixels.rank == 4, pixels.shape[1] == c.numChannels, pixels.shape[2] == c.imageSize,
            pixels.shape[3] == c.imageSize
        else {
            throw MultimodalError.invalidExample(
                detail: "image \(pixels.shape), expected [B, \(c.numChannels), \(c.imageSize), \(c.imageSize)]")
        }
        let run = { try self.visionEncoder(pixels * 2 - 1).lastHiddenState }  // [B, P, Dv]
        return encoderTrains ? try run() : try withNoGrad(run)
    }

    /// pixels [B, 3, H, W] → visual tokens [B, Q, D] (encoder, then projector)
    public func visualTokens(_ pixels: Tensor) throws -> Tensor {
        try visualTokens(features: encoderFeatures(pixels))
    }

    /// encoder features [B, P, Dv] → visual tokens [B, Q, D] (projector, plus the learned visual positions)
    func visualTokens(features: Tensor) throws -> Tensor {
        let tokens = try projector(features)
        guard let visualPositions else { return tokens }
        return try tokens + visualPositions().unsqueeze(0)
    }

    /// The regression target: pixels [B, 3, H, W] → conditions [B, K, Dv], the encoder's patch features
    /// average-pooled on the grid to √K × √K, row-major. Computed without a graph (a target, not a prediction).
    public func targetConditions(images pixels: Tensor) throws -> Tensor {
        try Self.pooledConditions(encoder: visionEncoder, images: pixels, side: config.querySide ?? 1)
    }

    /// The condition space shared by the decoder stage and the LLM's regression target: `encoder`'s last-layer
    /// patch features of pixels [B, 3, H, W] in [0, 1], average-pooled on the patch grid to side × side tokens,
    /// row-major → [B, side², Dv]. No graph.
    public static func pooledConditions(encoder: VisionEncoder, images pixels: Tensor, side: Int) throws -> Tensor {
        try withNoGrad {
            try pool(
                features: encoder(pixels * 2 - 1).lastHiddenState, grid: encoder.config.gridSize,
                side: side)
        }
    }

    /// Encoder patch features [B, g², Dv] average-pooled on the g × g grid to side × side tokens
    /// → [B, side², Dv].
    static func pool(features f: Tensor, grid g: Int, side: Int) throws -> Tensor {
        try withNoGrad {
            let (b, dv) = (f.shape[0], f.shape[2])
            let grid = try f.transpose(1, 2).reshape([b, dv, g, g])  // [B, Dv, g, g]
            let pooled = try adaptiveAvgPool2d(grid, outputSize: side)  // [B, Dv, s, s]
            return try pooled.reshape([b, dv, side * side]).transpose(1, 2).reshape([b, side * side, dv])
        }
    }

    /// The output half of `forward`: the K output hidden states of every `<img>` block, `blocks` [N, K, D]
    /// (`outputHidden`), through the head, plus (residual output) `bases[i]` [1, K, Dc], the conditions of the image
    /// block i follows → conditions [N, K, Dc].
    func conditions(blocks: Tensor, bases: [Tensor?] = []) throws -> Tensor {
        let out = try outputHead(blocks)  // [N, K, Dc]
        guard bases.contains(where: { $0 != nil }) else { return out }
        let zero = Tensor(zeros: [1, config.numQueries, conditionDim])
        return try out + concat((0..<blocks.shape[0]).map { i in (i < bases.count ? bases[i] : nil) ?? zero }, axis: 0)
    }

    /// The K output hidden states of every `<img>` block: hidden [1, L, D], starts (first output position of each
    /// block) → [N, K, D], nil without blocks.
    func outputHidden(_ hidden: Tensor, outputStarts: [Int]) throws -> Tensor? {
        guard !outputStarts.isEmpty else { return nil }
        let k = config.numQueries
        return try concat(outputStarts.map { try hidden.slice(axis: 1, start: $0, end: $0 + k) }, axis: 0)
    }

    /// The change head's logits [N, K] of the output blocks [N, K, D] (nil without the head).
    func changeLogits(blocks: Tensor) throws -> Tensor? {
        try changeHead.map { try $0(blocks).reshape([blocks.shape[0], config.numQueries]) }
    }
}
