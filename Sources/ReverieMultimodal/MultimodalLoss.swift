import ReverieCore

/// The regression loss between predicted and target conditions.
public enum RegressionLossKind: String, Sendable, Equatable, ConfigurationChoice {
    /// Mean squared error over every element.
    case mse
    /// Mean over condition tokens of 1 − cosine similarity (along Dc).
    case cosine
    /// Huber / smooth L1 with threshold β, mean over every element (PyTorch's `smooth_l1_loss`).
    case smoothL1 = "smooth_l1"
}

/// Loss weights and kinds: `total = ceWeight · CE(text) + regressionWeight · Regression(conditions)
/// + diffusionWeight · Denoising(frozen decoder | conditions)`.
public struct MultimodalLossConfig: Sendable, Equatable {
    public var ceWeight: Float
    public var regressionWeight: Float
    public var regression: RegressionLossKind
    /// Weight of the denoising loss through the decoder (0 = off; needs a decoder and an RNG). With the decoder
    /// frozen it trains the LLM side; with the UNet trainable (a recipe that does not freeze `unet`) it also teaches
    /// the decoder to draw from the conditions the LLM predicts.
    public var diffusionWeight: Float
    /// The share of output images whose denoising term is conditioned on their exact target conditions (the
    /// encoder's features, no gradient) instead of the prediction, drawn per image — so a decoder tuned on
    /// predictions keeps drawing the encoder's own features (reconstruction). 0 = predictions only.
    public var diffusionExactShare: Float = 0
    /// The denoising term's timestep skew towards the noisy end (`denoisingLoss(timestepPower:)`; 1 = uniform).
    public var diffusionTimestepPower: Double = 1
    /// β of `smooth_l1`.
    public var smoothL1Beta: Float
    /// Object weighting α: each condition token's regression term is weighted 1 + α · dₖ / mean(d), where dₖ is
    /// the squared distance of its target from the image's background (the per-channel median of the image's target
    /// tokens). Objects cover few of the K tokens, so without it the loss is mostly background and predicted
    /// objects fade to it. 0 = plain mean.
    public var objectWeight: Float
    /// Weight of the change head's binary cross-entropy (`ChangeMask`; needs `MultimodalConfig.changeHead`).
    public var changeWeight: Float = 0
    /// Weight of the change shortfall (`changeShortfall`): how far an edit's predicted change falls short of its
    /// target change along the target's direction (needs `MultimodalConfig.residualConditions`; 0 = off).
    public var shortfallWeight: Float = 0

    public init(
        ceWeight: Float = 1, regressionWeight: Float = 1, regression: RegressionLossKind = .mse,
        smoothL1Beta: Float = 1, diffusionWeight: Float = 0, objectWeight: Float = 0
    ) {
        (self.diffusionWeight, self.objectWeight) = (diffusionWeight, objectWeight)
        (self.ceWeight, self.regressionWeight, self.regression) = (ceWeight, regressionWeight, regression)
        self.smoothL1Beta = smoothL1Beta
    }
}

/// The losses of one batch; every tensor is a scalar, `total` carries the graph for `backward()`.
public struct MultimodalLosses {
    public var total: Tensor
    /// Mean cross-entropy over the batch's text targets (0 when there are none).
    public var crossEntropy: Tensor
    /// Regression loss over the batch's predicted conditions (0 when there are none).
    public var regression: Tensor
    /// Denoising loss through the frozen decoder (0 when its weight is 0 or there are no output images).
    public var diffusion: Tensor
    /// The change head's binary cross-entropy (0 when its weight is 0 or no output image follows another).
    public var change = Tensor(scalar: 0)
    /// The change shortfall of the batch's edits (0 when its weight is 0 or no output image follows another).
    public var shortfall = Tensor(scalar: 0)
    /// Number of text positions that entered the cross-entropy.
    public var textTargets: Int
    /// Number of output images that entered the regression.
    public var outputImages: Int
    /// The predicted conditions [N, K, Dc] of the batch's output images, in example order (nil when there are none).
    public var predictedConditions: Tensor?
    /// Their targets, the frozen encoder's conditions of the target images (no graph; nil when there are none).
    public var targetConditions: Tensor?
}

/// Regression loss of `prediction` against `target`, both [..., Dc]. Differentiable in `prediction`.
public func regressionLoss(
    _ prediction: Tensor, _ target: Tensor, kind: RegressionLossKind,
    smoothL1Beta: Float = 1
) throws -> Tensor {
    try regressionTerms(prediction, target, kind: kind, smoothL1Beta: smoothL1Beta).mean()
}

/// The regression loss before averaging: per element [..., Dc] for `mse` and `smooth_l1`, per token [...] for
/// `cosine`. Differentiable in `prediction`.
func regressionTerms(
    _ prediction: Tensor, _ target: Tensor, kind: RegressionLossKind,
    smoothL1Beta: Float
) throws -> Tensor {
    guard prediction.shape == target.shape else {
        throw MultimodalError.invalidExample(
            detail: "predicted conditions \(prediction.shape) vs targets \(target.shape)")
    }
    switch kind {
    case .mse:
        return (try prediction - target).square()
    case .cosine:
        return 1 - (try cosineSimilarity(prediction, target, axis: -1))
    case .smoothL1:
        guard smoothL1Beta > 0 else {
            throw MultimodalError.invalidConfiguration(key: "smooth_l1_beta", detail: "\(smoothL1Beta) must be > 0")
        }
        // |d| < β: 0.5 d²/β, else |d| − 0.5β. With m = min(|d|, β): 0.5 m²/β + (|d| − m) gives both branches.
        let a = (try prediction - target).abs()
        let m = smoothL1Beta - (smoothL1Beta - a).relu()  // min(|d|, β)
        return try m.square() * (0.5 / smoothL1Beta) + (a - m)
    }
}

/// How far predicted changes fall short of their targets along the targets' direction, for outputs [N, K, Dc]
/// that follow a reference r [K, Dc] (an edit's source conditions; nil entries are left out):
/// Σₖ max(0, ‖Δtₖ‖² − ⟨Δpₖ, Δtₖ⟩) / Σₖ ‖Δtₖ‖², with Δt = t − r and Δp = p − r. 1 when the prediction is the
/// reference, 0 once every token's change reaches its target's length along it; overshooting costs nothing
/// here (the regression loss sees it). Under the mean-square loss an LLM unsure of an edit predicts a change
/// shorter than any it has seen, which the decoder draws as the source unchanged. Differentiable in `prediction`;
/// 0 (no graph) when no output has a reference or every target equals its reference.
public func changeShortfall(_ prediction: Tensor, _ target: Tensor, references: [Tensor?]) throws -> Tensor {
    guard prediction.shape == target.shape, prediction.shape.count == 3 else {
        throw MultimodalError.invalidExample(
            detail: "predicted conditions \(prediction.shape) vs targets \(target.shape)")
    }
    let rows = references.indices.filter { $0 < prediction.shape[0] && references[$0] != nil }
    guard !rows.isEmpty else { return Tensor(scalar: 0) }
    let shape = Array(prediction.shape.dropFirst())
    let r = try stack(rows.map { try references[$0]!.reshape(shape) }, axis: 0)  // [M, K, Dc]
    let dt = try (target.indexSelect(axis: 0, rows) - r).detached()
    let dp = try prediction.indexSelect(axis: 0, rows) - r
    let e = try dt.square().sum(axis: -1)  // [M, K]
    let total = try e.sum().item()
    guard total > 0 else { return Tensor(scalar: 0) }
    return try (e - (dp * dt).sum(axis: -1)).relu().sum() * (1 / total)
}

/// Per-token weights [N, K, 1] of targets [N, K, Dc]: 1 + α · dₖ / mean(d), dₖ = ‖tₖ − rₖ‖². The reference r of
/// an output image is `references[i]` [K, Dc] when given (residual output: the image it follows, so the tokens an
/// edit changes weigh most), else its background: the per-channel median of its K target tokens. No graph.
public func objectWeights(_ target: Tensor, alpha: Float, references: [Tensor?] = []) throws -> Tensor {
    let (n, k, dc) = (target.shape[0], target.shape[1], target.shape[2])
    let t = target.toArray()
    var d = [Float](repeating: 0, count: n * k)
    var column = [Float](repeating: 0, count: k)
    for i in 0..<n {
        var reference = [Float](repeating: 0, count: k * dc)
        if i < references.count, let r = references[i] {
            reference = r.toArray()
        } else {
            for c in 0..<dc {
                for j in 0..<k { column[j] = t[(i * k + j) * dc + c] }
                column.sort()
                for j in 0..<k { reference[j * dc + c] = column[k / 2] }
            }
        }
        for j in 0..<k {
            var s: Float = 0
            for c in 0..<dc {
                let e = t[(i * k + j) * dc + c] - reference[j * dc + c]
                s += e * e
            }
            d[i * k + j] = s
        }
    }
    let mean = max(d.reduce(0, +) / Float(max(d.count, 1)), 1e-12)
    return try Tensor(shape: [n, k, 1], data: d.map { 1 + alpha * $0 / mean })
}

/// `regressionLoss` with a weight per condition token: Σₖ wₖ · ℓₖ / Σₖ wₖ, ℓₖ the token's own loss (mean over Dc
/// for mse and smooth_l1, 1 − cosine for cosine). weights [N, K, 1].
public func weightedRegressionLoss(
    _ prediction: Tensor, _ target: Tensor, weights: Tensor, kind: RegressionLossKind,
    smoothL1Beta: Float = 1
) throws -> Tensor {
    let terms = try regressionTerms(prediction, target, kind: kind, smoothL1Beta: smoothL1Beta)
    let perToken = kind == .cosine ? try terms.unsqueeze(-1) : try terms.mean(axis: -1, keepDims: true)  // [N, K, 1]
    return try (perToken * weights).sum() * (1 / weights.sum().item())
}

extension MultimodalModel {
    /// Losses of a batch of examples (one LLM forward over the right-padded batch): the cross-entropy averages over all
    /// text targets of the batch, the regression over all predicted conditions, against `targetConditions` of the
    /// target images.
    ///
    /// - Throws: `MultimodalError` for a bad example, or when `diffusionWeight > 0` (that needs
    ///   `losses(_:config:rng:)`).
    public func losses(_ examples: [MultimodalExample], config lc: MultimodalLossConfig = .init()) throws
        -> MultimodalLosses
    {
        guard lc.diffusionWeight == 0 else {
            throw MultimodalError.invalidConfiguration(
                key: "diffusion_weight", detail: "the denoising loss draws noise: call losses(_:config:rng:)")
        }
        var rng = RNG(seed: 0)  // unused without the denoising loss
        return try losses(examples, config: lc, rng: &rng)
    }

    /// `losses(_:config:)` plus, when `diffusionWeight > 0`, the denoising loss of the frozen decoder on the
    /// target images conditioned on the predicted conditions, with timesteps and noise drawn from `rng`.
    public func losses(_ examples: [MultimodalExample], config lc: MultimodalLossConfig, rng: inout RNG) throws
        -> MultimodalLosses
    {
        guard !examples.isEmpty else { throw MultimodalError.invalidExample(detail: "empty batch") }
        var textRows: [Tensor] = []  // per example, the final hidden states [n, D] of its n text targets
        var textTargets: [Int] = []
        var predictions: [Tensor] = []
        var targetImages: [Tensor] = []
        var references: [Tensor?] = []  // residual output: the conditions each output image follows
        for ex in examples { try validate(ex, needTargets: true) }
        guard lc.changeWeight == 0 || changeHead != nil else {
            throw MultimodalError.invalidConfiguration(key: "change_weight", detail: "the model has no change head")
        }
        guard lc.shortfallWeight == 0 || config.residualConditions else {
            throw MultimodalError.invalidConfiguration(
                key: "shortfall_weight", detail: "the change shortfall needs residual output (an edit's source)")
        }
        let outputs = try forward(batch: examples, logits: false)
        for (ex, out) in zip(examples, outputs) {
            let rows = out.targets.indices.filter { out.targets[$0] != -100 }
            if !rows.isEmpty {
                let hidden = try out.hidden.reshape([out.targets.count, llm.config.hiddenSize])  // [L, D]
                textRows.append(try hidden.indexSelect(axis: 0, rows))
                textTargets += rows.map { out.targets[$0] }
            }
            if let c = out.conditions {
                predictions.append(c)
                targetImages += ex.targetImages
                if lc.objectWeight > 0 || lc.shortfallWeight > 0, config.residualConditions {
                    references += try out.bases.map { try $0?.reshape(Array(c.shape.dropFirst())) }
                }
            }
        }
        // the head on the text targets alone: most positions are visual tokens and queries, which predict no token
        let ce =
            textRows.isEmpty
            ? Tensor(scalar: 0) : try crossEntropy(llm.head(concat(textRows, axis: 0)), targets: textTargets)
        var reg = Tensor(scalar: 0)
        var diffusion = Tensor(scalar: 0)
        var compared: (predicted: Tensor, target: Tensor)?
        var shortfall = Tensor(scalar: 0)
        if !predictions.isEmpty {
            let predicted = try concat(predictions, axis: 0)  // [N, K, Dc]
            let pixels = try stack(targetImages, axis: 0)  // [N, 3, H, W]
            let target = try targetConditions(images: pixels)  // [N, K, Dc]
            compared = (predicted, target)
            reg =
                lc.objectWeight > 0
                ? try weightedRegressionLoss(
                    predicted, target,
                    weights: objectWeights(
                        target, alpha: lc.objectWeight,
                        references: references),
                    kind: lc.regression, smoothL1Beta: lc.smoothL1Beta)
                : try regressionLoss(predicted, target, kind: lc.regression, smoothL1Beta: lc.smoothL1Beta)
            if lc.shortfallWeight > 0 {
                shortfall = try changeShortfall(predicted, target, references: references)
            }
            if lc.diffusionWeight > 0 {
                let conditions =
                    lc.diffusionExactShare > 0
                    ? try mixConditions(predicted, exact: target, share: lc.diffusionExactShare, rng: &rng) : predicted
                diffusion = try diffusionLoss(
                    predicted: conditions, targetImages: pixels,
                    timestepPower: lc.diffusionTimestepPower, rng: &rng)
            }
        }
        var total =
            try ce * lc.ceWeight + reg * lc.regressionWeight + diffusion * lc.diffusionWeight
            + shortfall * lc.shortfallWeight
        var change = Tensor(scalar: 0)
        if lc.changeWeight > 0 {
            change = try changeLoss(examples, outputs)
            total = try total + change * lc.changeWeight
        }
        var losses = MultimodalLosses(
            total: total, crossEntropy: ce, regression: reg, diffusion: diffusion,
            textTargets: textTargets.count, outputImages: targetImages.count)
        (losses.change, losses.shortfall) = (change, shortfall)
        (losses.predictedConditions, losses.targetConditions) = (compared?.predicted, compared?.target)
        return losses
    }
}

/// Per item of [N, K, Dc]: `exact` (no gradient) with probability `share`, else `predicted` — one uniform draw per
/// item from `rng`.
func mixConditions(_ predicted: Tensor, exact: Tensor, share: Float, rng: inout RNG) throws -> Tensor {
    let n = predicted.shape.first ?? 0
    let pick = try Tensor(shape: [n, 1, 1], data: (0..<n).map { _ in rng.uniform() < share ? 1 : 0 })
    return try predicted * (1 - pick) + exact.detached() * pick
}
