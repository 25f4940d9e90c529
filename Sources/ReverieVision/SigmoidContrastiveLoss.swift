// port of open_clip/loss.py (SigLipLoss) and the SigLIP paper (Zhai et al. 2023, Algorithm 1)
import ReverieCore

/// The SigLIP pairwise sigmoid loss over a batch of B matching image/text pairs.
///
/// Both embeddings are L2-normalised here, `logits = img · txtᵀ · exp(logitScale) + logitBias` [B, B],
/// `labels` are +1 on the diagonal and −1 elsewhere, and the loss is
/// `−Σᵢⱼ log σ(labelsᵢⱼ · logitsᵢⱼ) / B`.
/// Every step is a differentiable tensor op, so gradients reach the embeddings, the scale and the bias.
///
/// - image: [B, D]; text: [B, D] (row i of each is pair i).
/// - logitScale, logitBias: one element each (shape [] or [1]); SigLIP initialises them to log 10 and −10.
/// - Returns: the scalar loss, shape [].
public func sigmoidContrastiveLoss(
    image: Tensor, text: Tensor, logitScale: Tensor,
    logitBias: Tensor
) throws -> Tensor {
    let op = "sigmoidContrastiveLoss"
    guard image.rank == 2, image.shape == text.shape, image.shape[0] > 0, image.shape[1] > 0 else {
        throw TensorError.shapeMismatch(
            op: op,
            detail: "image \(shapeString(image.shape)) and text \(shapeString(text.shape)), expected both [B, D]")
    }
    for (name, t) in [("logitScale", logitScale), ("logitBias", logitBias)] where t.count != 1 || t.rank > 1 {
        throw TensorError.shapeMismatch(op: op, detail: "\(name) \(shapeString(t.shape)), expected [] or [1]")
    }
    let b = image.shape[0]
    let logits =
        try matmul(l2Normalized(image), l2Normalized(text), transposeB: true) * logitScale.exp()
        + logitBias  // [B, B]
    var labels = [Float](repeating: -1, count: b * b)
    for i in 0..<b { labels[i * b + i] = 1 }
    let z = try logits * Tensor(shape: [b, b], data: labels)  // [B, B]
    return try softplus(-z).sum() / Float(b)  // −log σ(z) = softplus(−z)
}

/// x [N, D] → x / max(‖x‖₂, 1e-12) row by row (PyTorch's `F.normalize`), from differentiable ops.
func l2Normalized(_ x: Tensor) throws -> Tensor {
    try x * x.square().sum(axis: -1, keepDims: true).clampMin(1e-24).rsqrt()  // [N, D] · [N, 1]
}

/// log(1 + eˣ) elementwise, stable for large |x|: max(x, 0) + log(1 + e^−|x|), from differentiable ops. Kept in
/// this form rather than `Tensor.softplus()` (whose rounding differs) so trained encoders stay bit-reproducible; its
/// gradient at exactly 0 is −1/2 instead of 1/2, which sigmoid-loss logits never hit.
func softplus(_ x: Tensor) throws -> Tensor {
    try x.relu() + ((-x.abs()).exp() + 1).log()
}
