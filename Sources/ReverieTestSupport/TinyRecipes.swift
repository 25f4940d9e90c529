import Foundation
import ReverieData

/// Tiny ShapesWorld stage recipes (a few seconds per stage in a debug build) under a temporary root, for the
/// trainer tests and the CLI tests.
public enum TinyRecipes {
    public static let vision = "vision: {hidden: 16, intermediate: 32, layers: 1, heads: 2, image_size: 64, patch: 16}"
    public static let vae = "vae: {channels: [8, 8], latent_channels: 4, norm_groups: 4}"
    public static let unet =
        "unet: {channels: [16], heads: 2, norm_groups: 4, condition_tokens: 4, "
        + "train_timesteps: 100,\n         source_latent: true}"

    public static func text(_ stage: String, root: String, steps: Int = 3, extra: String = "") -> String {
        let model: String
        switch stage {
        case "siglip":
            model = "  \(vision)\n  text: {hidden: 16, intermediate: 32, layers: 1, heads: 2, projection: 16}"
        case "vae": model = "  \(vae)"
        case "decoder": model = "  vision: {init: siglip}\n  vae: {init: vae}\n  \(unet)"
        case "tune":  // the decoder learns to draw from the LLM's conditions; everything else stays
            model = ["vision", "vae", "unet", "projector", "llm", "output"].map { "  \($0): {init: mllm}" }
                .joined(separator: "\n")
        default:
            model = """
                  vision: {init: siglip}
                  vae: {init: decoder}
                  unet: {init: decoder}
                  projector: {type: mlp, positions: token}
                  llm: {hidden: 32, intermediate: 64, layers: 1, heads: 2, kv_heads: 1, max_positions: 512,
                        tokenizer: \(root)/tokenizer.json}
                  output: {mode: queries, head: mlp, head_hidden: 32, residual: true, change_head: true}
                """
        }
        let loss = [
            "siglip": "loss: {patch_labels: 1}\n", "mllm": "loss: {object_weight: 2, change: 1}\n",
            "decoder": "loss: {object_weight: 2, condition_noise: 0.3}\n",
            "tune": "loss: {ce: 0, regression: 0, diffusion: 1, diffusion_exact: 0.5, timestep_power: 2}\n",
        ][stage]
        let freeze =
            [
                "decoder": "freeze: [vision, vae]\n", "mllm": "freeze: [vision, vae, unet]\n",
                "tune": "freeze: [vision, vae, projector, llm, output]\n",
            ][stage] ?? ""
        let data = ["decoder": ", edit_pairs: 0.5", "tune": ", mixture: {text_to_image: 1, edit: 1}"][stage] ?? ""
        return """
            stage: \(stage == "tune" ? "mllm\nname: tune" : stage)
            seed: 7
            root: \(root)
            data: {world_seed: 5\(data)}
            model:
            \(model)
            \(freeze)\(loss ?? "")optim: {lr: 1e-3, warmup: 1}
            train: {steps: \(steps), batch: 2, log_every: 1}
            eval: {every: 0, count: 2, sample_steps: 2}
            \(extra)
            """
    }

    /// Writes the tokenizer the tiny mllm recipe names (`<root>/tokenizer.json`, a small ShapesWorld BPE).
    public static func writeTokenizer(root: String) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try ShapesWorld(seed: 0).tokenizer(vocabularySize: 320, count: 100)
            .write(to: URL(fileURLWithPath: root).appendingPathComponent("tokenizer.json"))
    }

    /// Writes the five stage recipes (the last tunes the decoder on the LLM's conditions), the tokenizer and a
    /// pipeline into `dir`; returns the pipeline's URL.
    public static func writePipeline(in dir: URL, steps: Int = 3) throws -> URL {
        let root = dir.appendingPathComponent("runs").path
        try writeTokenizer(root: root)
        for stage in ["siglip", "vae", "decoder", "mllm", "tune"] {
            try text(stage, root: root, steps: steps).write(
                to: dir.appendingPathComponent("\(stage).yaml"),
                atomically: true, encoding: .utf8)
        }
        let pipeline = dir.appendingPathComponent("pipeline.yaml")
        try "root: \(root)\nstages: [siglip.yaml, vae.yaml, decoder.yaml, mllm.yaml, tune.yaml]\neval: {count: 2}\n"
            .write(to: pipeline, atomically: true, encoding: .utf8)
        return pipeline
    }

    public static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
