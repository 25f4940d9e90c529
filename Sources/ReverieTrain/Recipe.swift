import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieMultimodal
import ReverieRuntime

/// Which training stage a recipe runs (docs/DESIGN.md §1: the encoder, the autoencoder, the decoder, then the LLM).
public enum StageKind: String, CaseIterable, Codable, Sendable {
    case siglip, vae, decoder, mllm

    /// The parts the stage needs.
    public var requiredParts: [PartName] {
        switch self {
        case .siglip: return [.vision, .text]
        case .vae: return [.vae]
        case .decoder: return [.vision, .vae, .unet]
        case .mllm: return [.vision, .projector, .llm, .output, .vae, .unet]
        }
    }
}

/// Where a part's weights come from: built fresh from its options, or loaded from a checkpoint.
public enum PartSource: Sendable, Equatable {
    case build
    /// `init: <run>` (the `final.h5` of the run of that name under the recipe's root: a stage kind such as `mllm`,
    /// or a stage's `name`, such as `edits`) or `init: path/to/file.h5`.
    case checkpoint(path: String, run: String?, line: Int?)
}

/// ShapesWorld data of a stage: the world's seed, the canvas, and (mllm) the mixture of sample kinds.
public struct DataSpec: Sendable, Equatable {
    public var worldSeed: UInt64 = 1
    public var canvas = 64
    /// Relative weights of caption, text_to_image, edit, interleaved samples (mllm stage).
    public var mixture: [(String, Double)] = [("caption", 1), ("text_to_image", 1), ("edit", 1), ("interleaved", 0.5)]
    /// Relative weights of the kinds of the mixture's edit samples (`EditKind` names; empty: every kind equally
    /// often, as the evaluation world has them).
    public var editKinds: [(String, Double)] = []

    /// Decoder stage: the share of each batch drawn as edit pairs (target image, source latent) for a UNet that
    /// takes a source latent; the rest are single images with no source.
    public var editPairs = 0.0

    public static let kinds = ["caption", "text_to_image", "edit", "interleaved"]

    /// The world the stage trains on.
    public var world: ShapesWorld { ShapesWorld(seed: worldSeed, canvas: canvas) }

    public static func == (a: DataSpec, b: DataSpec) -> Bool {
        a.worldSeed == b.worldSeed && a.canvas == b.canvas && a.editPairs == b.editPairs
            && a.mixture.map(\.0) == b.mixture.map(\.0) && a.mixture.map(\.1) == b.mixture.map(\.1)
            && a.editKinds.map(\.0) == b.editKinds.map(\.0) && a.editKinds.map(\.1) == b.editKinds.map(\.1)
    }
}

/// Loss weights and options.
public struct LossSpec: Sendable, Equatable {
    public var ce = 1.0, regression = 1.0, diffusion = 0.0
    public var regressionKind = RegressionLossKind.mse
    /// MLLM stage: β of `regression_kind: smooth_l1` (quadratic below β, linear above; small β is nearly L1).
    public var smoothL1Beta = 1.0
    /// MLLM stage: extra regression weight of condition tokens that differ from the image's background (see
    /// `MultimodalLossConfig.objectWeight`). Decoder stage: the same for the latent pixels of the denoising loss.
    public var objectWeight = 0.0
    /// MLLM stage: weight of the change head's binary cross-entropy (`ChangeMask`; needs `output.change_head`).
    public var change = 0.0
    /// MLLM stage: weight of the change shortfall (`changeShortfall`; needs `output.residual`).
    public var changeShortfall = 0.0
    /// VAE stage: KL weight. Decoder stage: condition dropout for classifier-free guidance.
    public var kl = 1e-6, conditionDropout = 0.1
    /// Decoder stage: noise augmentation of the conditions (`DecoderStage.conditionNoise`).
    public var conditionNoise = 0.0
    /// Decoder stage, and the mllm stage's denoising loss: p of the timestep skew t = ⌊T·u^(1/p)⌋ towards the
    /// noisy end (1 = uniform).
    public var timestepPower = 1.0
    /// MLLM stage: the share of output images whose denoising term uses the exact target conditions
    /// (`MultimodalLossConfig.diffusionExactShare`).
    public var diffusionExact = 0.0
    /// MLLM stage: the weight of the shape probe (`ShapeProbe`): a linear probe learns the shape under each patch
    /// from the target images' own conditions, and the predicted conditions must read as the same shapes to it.
    public var shapeProbe = 0.0
    /// Siglip stage: the weight of the per-patch shape labels' cross-entropy (0 = none; `SiglipStage`).
    public var patchLabels = 0.0
    /// Siglip stage: the weight of the per-patch colour labels' cross-entropy (0 = none; `SiglipStage`).
    public var patchColors = 0.0
    /// Siglip stage: `learned` (trained linear heads read the patch labels) or `fixed` (constant orthonormal
    /// directions do, so the features themselves must carry shape and colour loudly along them; `SiglipStage`).
    public var patchHead = PatchHeadKind.learned
    /// VAE stage: `l1` or `l2` pixel loss.
    public var reconstruction = ReconstructionLoss.l2
}

/// The learning-rate schedule after warmup.
public enum ScheduleKind: String, ConfigurationChoice {
    case cosine, constant
}

/// AdamW with linear warmup and a cosine (or constant) schedule, and gradient clipping.
public struct OptimSpec: Sendable, Equatable {
    public var lr = 3e-4, minLR = 0.0, weightDecay = 0.01, beta1 = 0.9, beta2 = 0.999
    public var warmup = 0
    public var schedule = ScheduleKind.cosine
    /// Global gradient-norm clip; 0 turns clipping off.
    public var clip = 1.0
}

/// Steps, batch size, gradient accumulation; log and checkpoint cadence.
public struct LoopSpec: Sendable, Equatable {
    public var steps = 100, batch = 8, accumulate = 1
    public var checkpointEvery = 0
    /// Log a metrics line every N steps.
    public var logEvery = 10
}

/// One stage recipe, fully read and checked (not yet built).
public struct Recipe: Sendable {
    /// The file it came from and its text with every `--set` applied (embedded into checkpoints).
    public var file: String
    public var resolvedYAML: String
    public var stage: StageKind
    /// The run's name (`name`, default the stage kind): later stages `init` from it.
    public var name: String
    public var seed: UInt64
    public var root: String
    public var output: String
    public var data = DataSpec()
    /// Parts built here (their options) — parts with `init` take theirs from the checkpoint.
    public var parts = ModelParts()
    public var sources: [PartName: PartSource] = [:]
    public var freeze: [PartName] = []
    public var loss = LossSpec()
    public var optim = OptimSpec()
    public var loop = LoopSpec()
    public var eval = EvalSpec()

    /// The run directory's final checkpoint.
    public var finalCheckpoint: URL { URL(fileURLWithPath: output).appendingPathComponent("final.h5") }

    /// Where `init: <run>` points.
    public static func stageOutput(root: String, _ run: String) -> String {
        runDirectory(root: root, name: run) + "/final.h5"
    }

    /// Whether `name` can be a run directory under the root: not empty, no `/`, not `.` or `..`.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && name != "." && name != ".."
    }

    /// Whether an `init` value names a run (a plain name) rather than a checkpoint file (a path or `….h5`).
    static func isRunName(_ source: String) -> Bool { isPlainName(source) && !source.hasSuffix(".h5") }

    /// `<root>/<name>`: where a stage named `name` runs.
    static func runDirectory(root: String, name: String) -> String {
        (root.hasSuffix("/") ? root : root + "/") + name
    }
}
