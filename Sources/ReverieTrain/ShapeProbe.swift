import ReverieCore
import ReverieData
import ReverieMultimodal
import ReverieNN

/// The mllm stage's shape probe (`loss.shape_probe`).
///
/// The encoder's features carry shape more quietly than colour (`FeatureLoudness`), so a prediction can be close
/// in mean square yet draw the wrong shape: the LLM's edit misses were mostly an object redrawn right in colour,
/// size and place but as another shape. The probe is a linear layer that learns the shape under each patch
/// (`Scene.patchShapeLabels`) from the target images' own conditions (no gradient into anything else); the predicted
/// conditions, read by the same probe with its weights held still, must name the same shapes. Both are
/// cross-entropies over every output image's patches; the stage adds their sum × the weight.
final class ShapeProbe {
    let head: Linear
    let weight: Float

    init(conditionDim: Int, weight: Float, rng: inout RNG) throws {
        head = try Linear(inFeatures: conditionDim, outFeatures: PatchAttribute.shape.classes, rng: &rng)
        self.weight = weight
    }

    /// The probe's two terms on a batch whose output images are `images` (one per predicted image, in order), their
    /// shape labels from `source`: `own`, the probe on the targets (trains the probe alone), and `read`, the probe
    /// on the predictions (trains what predicts them). The K condition tokens lie on a √K × √K grid over the canvas
    /// (the encoder's patches, or their pooled cells), each labelled with the shape under its cell.
    func terms(predicted: Tensor, target: Tensor, images: [ImageRef], source: any TrainingData) throws
        -> (own: Tensor, read: Tensor)
    {
        let (n, k) = (predicted.shape[0], predicted.shape[1])
        let grid = Int(Double(k).squareRoot().rounded())
        guard images.count == n, grid * grid == k else {
            throw StageError.badData(
                "shape probe: \(n) predicted images of \(k) condition tokens for "
                    + "\(images.count) images; the tokens must lie on a square grid")
        }
        // Images without labels are ignored (-100) rather than guessed.
        let labels = images.flatMap { source.patchLabels($0, .shape, grid: grid) ?? Array(repeating: -100, count: k) }
        let own = try crossEntropy(head(target.detached()), targets: labels)
        let read = try crossEntropy(
            linear(predicted, weight: head.weight.detached(), bias: head.bias?.detached()),
            targets: labels)
        return (own, read)
    }
}

/// The mllm stage's module with its shape probe: the multimodal model's own keys, plus `shape_probe.*`.
final class ProbedMultimodal: Module {
    let model: MultimodalModel
    let probe: Linear

    init(_ model: MultimodalModel, probe: Linear) {
        (self.model, self.probe) = (model, probe)
        super.init()
    }

    override func visit(_ v: inout ModuleVisitor) {
        model.visit(&v)
        v.child("shape_probe", probe)
    }
}
