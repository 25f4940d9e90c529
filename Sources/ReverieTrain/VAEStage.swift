import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieNN
import ReverieRuntime

/// The autoencoder stage: AutoencoderKL on ShapesWorld renders, reconstruction + KL loss. At the end it measures
/// the latents' standard deviation and records `scaling_factor = 1/σ`, so the decoder stage's latents have unit
/// variance. Evaluation: reconstruction attribute accuracy with the ShapesWorld evaluator.
final class VAEStage: StageDefinition {
    static let kind = StageKind.vae
    static let requiredParts: [PartName] = [.vae]
    static func dataUses(_ recipe: Recipe) -> [DataUse] { [.image] }
    static let dataKeys: Set = ["augment"]
    let vae: AutoencoderKL
    let model: Module
    private(set) var parts: ModelParts
    /// The training stream and its canvas.
    let data: any TrainingData
    let canvas: Int
    let augment: Augmentation
    /// `data.eval_manifest`, scored instead of ShapesWorld.
    let evalManifest: EvalManifest?
    let klWeight: Float
    let reconstruction: ReconstructionLoss

    init(parts: ModelParts, recipe: Recipe?, rng: inout RNG) throws {
        guard let p = parts.vae else { throw StageError.missingPart(.vae) }
        self.parts = parts
        var g = rng.forKey("decoder.vae")
        vae = try PartBuilding.vae(p, rng: &g)
        model = PartsContainer([("decoder", PartsContainer([("vae", vae)]))])
        let spec = recipe?.data ?? DataSpec()
        (data, canvas, augment) = (try spec.training(), spec.canvas, spec.augment)
        evalManifest = try spec.evalManifest.map { try EvalManifest(path: $0, canvas: spec.canvas) }
        let loss = recipe?.loss(Loss.self) ?? Loss()
        (klWeight, reconstruction) = (Float(loss.kl), loss.reconstruction)
    }

    func prefetch(indices: [Int]) { data.prefetch(indices.compactMap { try? data.image(at: $0) }) }

    /// The training images at `indices` → [B, 3, N, N] in [0, 1].
    func images(_ indices: [Int]) throws -> Tensor {
        try StageImages.pixels(indices.map { try data.image(at: $0) }, data.images)
    }

    func loss(indices: [Int], rng: inout RNG) throws -> StageLoss {
        let x = try augment.apply(images(indices), indices: indices) * 2 - 1
        let l = try vaeLoss(vae: vae, images: x, klWeight: klWeight, reconstruction: reconstruction, rng: &rng)
        return StageLoss(
            total: l.total, terms: [("reconstruction", try l.reconstruction.item()), ("kl", try l.kl.item())])
    }

    /// Encode (posterior mean) → decode, for the evaluator.
    func reconstruct(_ images: [PlanarImage]) throws -> [PlanarImage] {
        try withNoGrad {
            let x = try ImageBatch.pixels(images) * 2 - 1
            return try ImageBatch.images(fromSigned: vae.decode(vae.encode(x).mean))
        }
    }

    func evaluate(count: Int, seed: UInt64, sheet: URL?, share: ItemShare) throws -> [(String, Double)] {
        if let evalManifest {
            return try evalManifest.reconstructionScores(count: count, batch: 16, sheet: sheet, share: share) {
                images, _ in
                try reconstruct(images)
            }
        }
        return try ImageBatch.reconstructionScores(
            canvas: canvas, seed: seed, count: count, batch: 16,
            sheet: sheet, share: share
        ) { images, _ in try reconstruct(images) }
    }

    /// Records 1/σ of the latents of 64 training scenes as the VAE's scaling factor.
    func finish() throws {
        let z = try withNoGrad { try vae.encode(images(Array(0..<64)) * 2 - 1).mean }.toArray()
        let mean = z.reduce(0, +) / Float(z.count)
        let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(z.count)
        parts.vae?.scalingFactor = Double(1 / max(variance.squareRoot(), 1e-6))
    }
}

/// A stage built without a part it needs.
enum StageError: Error, CustomStringConvertible {
    case missingPart(PartName)
    case badData(String)

    var description: String {
        switch self {
        case let .missingPart(p): return "the model has no '\(p.rawValue)' part"
        case let .badData(d): return d
        }
    }
}
