import ReverieCore
import ReverieData
import ReverieNN

/// How a siglip stage's patch labels are read (`loss.patch_head`).
public enum PatchHeadKind: String, ConfigurationChoice {
    /// Trained linear heads read the labels.
    case learned
    /// Constant orthonormal directions do, so the features themselves must carry the labels along them.
    case fixed
}

/// What reads per-patch labels from patch features [B, P, D] → logits [B, P, classes].
public enum PatchHead {
    /// A trained linear layer.
    case learned(Linear)
    /// Constant directions W [classes, D] with orthonormal rows: logits = features · Wᵀ.
    case fixed(Tensor)

    var linear: Linear? {
        if case let .learned(l) = self { return l }
        return nil
    }

    func logits(_ features: Tensor) throws -> Tensor {
        switch self {
        case let .learned(l): return try l(features)
        case let .fixed(w): return try ReverieCore.linear(features, weight: w, bias: nil)
        }
    }

    /// `rows` orthonormal directions in `dim` dimensions (Gram–Schmidt on Gaussian draws).
    public static func orthonormal(_ rows: Int, _ dim: Int, rng: inout RNG) throws -> Tensor {
        var basis: [[Float]] = []
        while basis.count < rows {
            var v = Tensor.randn([dim], rng: &rng).toArray()
            for b in basis {
                let dot = zip(v, b).reduce(0) { $0 + $1.0 * $1.1 }
                for i in v.indices { v[i] -= dot * b[i] }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 1e-3 else { continue }
            basis.append(v.map { $0 / norm })
        }
        return try Tensor(shape: [rows, dim], data: basis.flatMap { $0 })
    }

    /// Blocks of `rows[i]` directions each, all orthonormal to each other: fixed heads that read different labels
    /// along directions that do not overlap.
    public static func orthonormalBlocks(_ rows: [Int], _ dim: Int, rng: inout RNG) throws -> [Tensor] {
        let all = try orthonormal(rows.reduce(0, +), dim, rng: &rng).toArray()
        var start = 0
        return try rows.map { r in
            defer { start += r }
            return try Tensor(shape: [r, dim], data: Array(all[(start * dim)..<((start + r) * dim)]))
        }
    }
}

/// One per-patch readout of the siglip stage: `attribute`'s labels, read by `head`, cross-entropy × `weight`.
struct PatchTerm {
    let attribute: PatchAttribute
    let head: PatchHead
    let weight: Float

    /// The learned head's key in the stage's checkpoint.
    var key: String { attribute == .shape ? "patch_head" : "patch_color_head" }
    /// The loss term's name in the progress line and metrics.
    var lossName: String { attribute == .shape ? "patch" : "patch_color" }
    /// The evaluation score's name: the share of patches under an object whose label the head names right.
    var scoreName: String { attribute == .shape ? "patch_objects" : "patch_colors" }

    /// The recipe's terms: `loss.patch_labels` (shape) and `loss.patch_colors` (colour), those with weight > 0, all
    /// read by learned heads or all by fixed directions (`loss.patch_head`), orthonormal across the terms.
    static func terms(_ loss: SiglipStage.Loss, hidden: Int, rng: inout RNG) throws -> [PatchTerm] {
        let wanted = [(PatchAttribute.shape, loss.patchLabels), (.color, loss.patchColors)].filter { $0.1 > 0 }
        if loss.patchHead == .fixed {
            let blocks = try PatchHead.orthonormalBlocks(wanted.map(\.0.classes), hidden, rng: &rng)
            return zip(wanted, blocks).map { PatchTerm(attribute: $0.0.0, head: .fixed($0.1), weight: Float($0.0.1)) }
        }
        return try wanted.map {
            PatchTerm(
                attribute: $0.0, head: .learned(try Linear(inFeatures: hidden, outFeatures: $0.0.classes, rng: &rng)),
                weight: Float($0.1))
        }
    }
}
