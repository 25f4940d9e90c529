import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieNN

/// The autoencoder stage: AutoencoderKL on ShapesWorld renders, reconstruction + KL loss. At the end it measures
/// the latents' standard deviation and records `scaling_factor = 1/σ`, so the decoder stage's latents have unit
/// variance. Evaluation: reconstruction attribute accuracy with the ShapesWorld evaluator.
final class VAEStage: TrainingStage {
    let kind = StageKind.vae
    let vae: AutoencoderKL
    let model: Module
    private(set) var parts: ModelParts
    let world: ShapesWorld
    let klWeight: Float
    let reconstruction: ReconstructionLoss

    init(parts: ModelParts, recipe: Recipe?, rng: inout RNG) throws {
        guard let p = parts.vae else { throw StageError.missingPart(.vae) }
        self.parts = parts
        vae = try PartBuilding.vae(p, rng: &rng)
        model = PartsContainer([("decoder", PartsContainer([("vae", vae)]))])
        world = ShapesWorld(seed: recipe?.data.worldSeed ?? 1, canvas: recipe?.data.canvas ?? 64)
        klWeight = Float(recipe?.loss.kl ?? 1e-6)
        reconstruction = ReconstructionLoss(rawValue: recipe?.loss.reconstruction ?? "l2") ?? .l2
    }

    func loss(indices: Range<Int>, rng: inout RNG) throws -> StageLoss {
        let x = try ShapesBatch.scenes(world, indices) * 2 - 1
        let l = try vaeLoss(vae: vae, images: x, klWeight: klWeight, reconstruction: reconstruction, rng: &rng)
        return StageLoss(total: l.total, terms: [("reconstruction", try l.reconstruction.item()), ("kl", try l.kl.item())])
    }

    /// Encode (posterior mean) → decode, for the evaluator.
    func reconstruct(_ images: [PlanarImage]) throws -> [PlanarImage] {
        try withNoGrad {
            let x = try ShapesBatch.pixels(images) * 2 - 1
            return try ShapesBatch.images(fromSigned: vae.decode(vae.encode(x).mean))
        }
    }

    func evaluate(count: Int, seed: UInt64, sheet: URL?) throws -> [(String, Double)] {
        let eval = ShapesWorld(seed: seed, canvas: world.rasterizer.canvas)
        let evaluator = Evaluator()
        var scores = AttributeScores()
        var shown: [[PlanarImage]] = [[], []]
        for start in stride(from: 0, to: count, by: 16) {
            let scenes = (start..<min(start + 16, count)).map { eval.scene(at: $0) }
            let originals = scenes.map { eval.render($0) }
            let out = try reconstruct(originals)
            for (image, scene) in zip(out, scenes) { scores = scores + evaluator.score(image, expected: scene) }
            if shown[0].count < 8 {
                shown[0] += originals.prefix(8 - shown[0].count)
                shown[1] += out.prefix(8 - shown[1].count)
            }
        }
        if let sheet { try ShapesBatch.writeSheet(shown, to: sheet) }
        return [("reconstruction", scores.attributeAccuracy), ("reconstruction_exact", scores.exact.accuracy)]
    }

    /// Records 1/σ of the latents of 64 training scenes as the VAE's scaling factor.
    func finish() throws {
        let z = try withNoGrad { try vae.encode(ShapesBatch.scenes(world, 0..<64) * 2 - 1).mean }.toArray()
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
