import ReverieCore

/// Where an output image changes the image it follows, on the √K × √K grid of condition tokens — the target of the
/// change head (`MultimodalConfig.changeHead`) and, predicted, the region an edit redraws (`SourceKeeping`).
///
/// A token counts as changed when any pixel of its patch differs between the two images by more than `tolerance`
/// in any channel (DiffEdit's mask, taken from the pair instead of inferred): the exact footprint of the edit,
/// where a threshold on the conditions' change spreads over the encoder's receptive field.
public enum ChangeMask {
    /// Largest per-channel pixel difference (images in [0, 1]) that still counts as unchanged.
    public static let tolerance: Float = 0.1

    /// 1 where the patch of token k differs, else 0: source and target [3, H, W] in [0, 1] → side² values,
    /// row-major. H and W must be multiples of `side`.
    ///
    /// - Throws: `MultimodalError.invalidExample` for images of different or unusable shapes.
    public static func labels(source: Tensor, target: Tensor, side: Int, tolerance: Float = tolerance) throws
        -> [Float]
    {
        let s = source.shape
        guard s == target.shape, s.count == 3, side > 0, s[1] % side == 0, s[2] % side == 0 else {
            throw MultimodalError.invalidExample(
                detail: "change labels of \(s) and \(target.shape) on a \(side)×\(side) grid")
        }
        let (c, h, w) = (s[0], s[1], s[2])
        let (ph, pw) = (h / side, w / side)
        let a = source.toArray(), b = target.toArray()
        var changed = [Float](repeating: 0, count: side * side)
        for ch in 0..<c {
            for y in 0..<h {
                let row = (ch * h + y) * w
                for x in 0..<w where abs(a[row + x] - b[row + x]) > tolerance {
                    changed[(y / ph) * side + x / pw] = 1
                }
            }
        }
        return changed
    }
}

extension MultimodalModel {
    /// The change head's loss over a batch's forward outputs: binary cross-entropy of every output block that
    /// follows an image (`outputBases`) against `ChangeMask.labels` of that image and the block's target, averaged
    /// over those blocks' tokens; 0 when there are none.
    func changeLoss(_ examples: [MultimodalExample], _ outputs: [MultimodalForwardOutput]) throws -> Tensor {
        let side = config.querySide ?? 1
        var logits: [Tensor] = []
        var labels: [Float] = []
        for (ex, out) in zip(examples, outputs) {
            guard let all = out.changeLogits else { continue }
            for (i, base) in outputBases(ex).enumerated() {
                guard let base, i < ex.targetImages.count else { continue }
                logits.append(try all.slice(axis: 0, start: i, end: i + 1))
                labels += try ChangeMask.labels(source: base, target: ex.targetImages[i], side: side)
            }
        }
        guard !logits.isEmpty else { return Tensor(scalar: 0) }
        let x = try concat(logits, axis: 0)
        return try binaryCrossEntropy(logits: x, targets: Tensor(shape: x.shape, data: labels))
    }
}
