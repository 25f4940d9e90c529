import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieIO
import ReverieMultimodal
import ReverieNN
import ReverieVision

/// The encoder and the decoder without an LLM (a decoder-stage model): images → the encoder's pooled conditions →
/// the decoder's drawing. The decoder stage evaluates with it, and `reverie eval` scores decoder checkpoints with it.
public final class DecoderRunner {
    public let vision: VisionEncoder
    public let decoder: LatentDiffusionDecoder
    /// `vision_encoder.…` and `decoder.…`, the keys the decoder stage trains and saves.
    public let model: Module
    public let side: Int
    public var drawing: DrawingOptions

    /// Fresh weights for `parts` (vision, vae, unet).
    public init(parts: ModelParts, drawing: DrawingOptions = .init(), rng: inout RNG) throws {
        let need = "the encoder, the autoencoder and the UNet"
        guard let v = parts.vision else { throw RuntimeError.missingPart(.vision, needed: need) }
        guard let a = parts.vae else { throw RuntimeError.missingPart(.vae, needed: need) }
        guard let u = parts.unet else { throw RuntimeError.missingPart(.unet, needed: need) }
        var (gv, ga, gu) = (rng.forKey("vision_encoder"), rng.forKey("decoder.vae"), rng.forKey("decoder.unet"))
        vision = try PartBuilding.vision(v, rng: &gv)
        let vae = try PartBuilding.vae(a, rng: &ga)
        let unet = try PartBuilding.unet(u, latentChannels: a.latentChannels, conditionDim: v.hidden, rng: &gu)
        decoder = try PartBuilding.decoder(vae: vae, unet: unet, u, conditionDim: v.hidden)
        side = u.conditionSide
        try require(
            v.grid % side == 0, "unet.condition_tokens",
            "√\(u.conditionTokens) = \(side) does not divide the vision patch grid \(v.grid)")
        model = PartsContainer([("vision_encoder", vision), ("decoder", decoder)])
        self.drawing = drawing
    }

    /// The trained encoder and decoder of the checkpoint at `url` (any checkpoint holding both).
    public static func load(_ url: URL, drawing: DrawingOptions = .init()) throws -> DecoderRunner {
        let record = try ModelConfigRecord.read(url)
        var rng = RNG(seed: 0)
        let runner = try DecoderRunner(parts: record.parts, drawing: drawing, rng: &rng)
        let stored = try Checkpoint.read(from: url, sections: [.model]).model
        try loadStateDict(
            stored.filter { k, _ in [PartName.vision, .vae, .unet].contains { $0.owns(k) } },
            into: runner.model.stateDict(), strict: true, file: url.path)
        runner.model.eval()
        return runner
    }

    /// pixels [B, 3, H, W] → the encoder's pooled conditions [B, K, Dv]
    public func conditions(_ pixels: Tensor) throws -> Tensor {
        try MultimodalModel.pooledConditions(encoder: vision, images: pixels, side: side)
    }

    /// Images → their conditions → the decoder's drawing of them (noise seeded `seed`).
    public func reconstruct(_ images: [PlanarImage], seed: UInt64) throws -> [PlanarImage] {
        let pixels = try ImageBatch.pixels(images)
        let out = try decoder.decode(
            conditions: conditions(pixels), imageSize: (pixels.shape[2], pixels.shape[3]),
            steps: drawing.steps, guidance: drawing.guidance,
            sampler: drawing.sampler.config, seed: seed)
        return try ImageBatch.images(fromSigned: out)
    }

    /// Reconstruction scores on `count` ShapesWorld scenes of a world seeded `seed` (and, for a decoder that takes
    /// a source latent, `edit_oracle`: edits drawn from the targets' own conditions); writes a sheet when asked.
    /// Under `share` the batches are split among the ranks.
    public func evaluate(count: Int, seed: UInt64, sheet: URL? = nil, share: ItemShare = .alone) throws
        -> [(String, Double)]
    {
        let scores = try ImageBatch.reconstructionScores(
            canvas: vision.config.imageSize, seed: seed, count: count,
            batch: 8, sheet: sheet, share: share
        ) { images, start in
            try reconstruct(images, seed: seed &+ UInt64(start))
        }
        guard decoder.sourceLatents else { return scores }
        return scores + [("edit_oracle", try oracleEdits(count: count, seed: seed, share: share))]
    }

    /// With a source latent: the share of edits drawn exactly right from the target's own conditions and the
    /// source's latent — the edit accuracy an LLM that predicted perfect conditions would reach.
    public func oracleEdits(count: Int, seed: UInt64, share: ItemShare = .alone) throws -> Double {
        let eval = ShapesWorld(seed: seed, canvas: vision.config.imageSize)
        let evaluator = Evaluator()
        let blocks = try ReconstructedBlock<Tally>.run(count: count, batch: 8, share: share) { range in
            let pairs = range.map { eval.edit(at: $0) }
            let targets = try ImageBatch.pixels(pairs.map { eval.render($0.target) })
            let sources = try decoder.latents(images: ImageBatch.pixels(pairs.map { eval.render($0.source) }))
            let out = try decoder.decode(
                conditions: conditions(targets), imageSize: (targets.shape[2], targets.shape[3]),
                steps: drawing.steps, guidance: drawing.guidance,
                sampler: drawing.sampler.config, seed: seed &+ UInt64(range.lowerBound),
                sourceLatent: sources)
            var tally = Tally()
            for (image, pair) in zip(try ImageBatch.images(fromSigned: out), pairs) {
                tally.record(evaluator.editIsCorrect(image, target: pair.target))
            }
            return (tally, [])
        }
        return blocks.reduce(Tally()) { $0 + $1.scores }.accuracy
    }
}
