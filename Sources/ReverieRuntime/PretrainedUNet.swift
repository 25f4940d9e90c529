import Foundation
import ReverieCore
import ReverieDiffusion
import ReverieIO

extension PretrainedParts {
    /// diffusers' `UNet2DConditionModel` (Stable Diffusion 1.x / 2.x layouts): the configuration kept whole in
    /// `UNetPart.diffusers`, the training schedule from the pipeline's `scheduler/scheduler_config.json` when there
    /// is one, the Reverie-only options (condition tokens, null condition, source latent, spatial conditioning and
    /// injection) from the recipe. Weights the directory cannot hold start as built: the null condition, a new
    /// `encoder_hid_proj` (conditions whose width is not `cross_attention_dim`), condition injection; `conv_in`'s
    /// extra input channels start at zero, so the pretrained UNet computes what it did until they train.
    public static let unet = PretrainedImporter(
        configuration: { directory, recipe in
            let file = try HFConfigFile(url: directory)
            guard file.diffusersClassName == "UNet2DConditionModel" else {
                throw file.invalid("_class_name", "\(file.diffusersClassName ?? "missing"), not UNet2DConditionModel")
            }
            let config = try UNet2DConditionConfig.decode(json: file.text, source: file.url.path)
            var part = recipe.unet ?? UNetPart()
            (part.diffusers, part.channels, part.layersPerBlock) = (
                config, config.blockOutChannels, config.layersPerBlock
            )
            (part.heads, part.normGroups, part.attention) = (
                config.heads[0], config.normNumGroups, config.downBlockTypes.map { $0 == "CrossAttnDownBlock2D" }
            )
            if let scheduler = try schedulerConfig(beside: directory) { scheduler.apply(to: &part) }
            var parts = ModelParts()
            parts.unet = part
            return parts
        },
        weights: { directory, parts in
            guard let part = parts.unet, let latent = parts.vae?.latentChannels, let width = parts.vision?.hidden else {
                throw ConfigurationError(key: "unet", "a pretrained UNet needs the unet, vae and vision options")
            }
            var state = try DiffusersImport.convert(directory: directory).model
            let built = part.inputChannels(latentChannels: latent, conditionDim: width)
            if let w = state["conv_in.weight"], w.rank == 4, w.shape[1] < built {
                let extra = Tensor(zeros: [w.shape[0], built - w.shape[1], w.shape[2], w.shape[3]])
                state["conv_in.weight"] = try concat([w, extra], axis: 1)
            }
            return Dictionary(uniqueKeysWithValues: state.map { ("decoder.unet.\($0.key)", $0.value) })
        },
        keepsBuilt: { key in
            key == "decoder.null_condition" || key.hasPrefix("decoder.unet.encoder_hid_proj.")
                || key.hasPrefix("decoder.unet.condition_injection.")
        })

    /// The scheduler configuration of the pipeline a UNet directory belongs to: `scheduler_config.json` beside its
    /// `config.json`, or in the sibling `scheduler/` folder of a diffusers pipeline; nil when there is none.
    static func schedulerConfig(beside directory: URL) throws -> SchedulerConfig? {
        let candidates = [
            directory.appendingPathComponent("scheduler_config.json"),
            directory.deletingLastPathComponent().appendingPathComponent("scheduler/scheduler_config.json"),
        ]
        guard let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            return nil
        }
        return try SchedulerConfig(file: HFConfigFile(url: url))
    }
}

/// The training half of a diffusers scheduler configuration (any scheduler class): the noise schedule and what the
/// UNet predicts. Its sampling options (timestep spacing, clipping, steps offset) do not change training; Reverie's
/// samplers take theirs from the recipe. A schedule Reverie cannot make is refused by key.
struct SchedulerConfig {
    var prediction: PredictionType
    var trainTimesteps: Int
    var betaSchedule: BetaSchedule
    var betaStart: Double, betaEnd: Double

    init(file: HFConfigFile) throws {
        func choice<C: ConfigurationChoice>(_ key: String, _ fallback: C) throws -> C {
            let name = try file.string(key, default: fallback.rawValue)
            guard let value = C(rawValue: name) else {
                throw file.invalid(key, "'\(name)' is not one of \(C.names.joined(separator: ", "))")
            }
            return value
        }
        prediction = try choice("prediction_type", PredictionType.epsilon)
        betaSchedule = try choice("beta_schedule", BetaSchedule.linear)
        trainTimesteps = try file.int("num_train_timesteps", default: 1000)
        betaStart = try file.double("beta_start", default: 0.0001)
        betaEnd = try file.double("beta_end", default: 0.02)
        if file.has("trained_betas") { throw file.invalid("trained_betas", "explicit betas are not implemented") }
        if try file.bool("rescale_betas_zero_snr", default: false) {
            throw file.invalid("rescale_betas_zero_snr", "true is not implemented")
        }
    }

    func apply(to part: inout UNetPart) {
        (part.prediction, part.trainTimesteps, part.betaSchedule) = (prediction, trainTimesteps, betaSchedule)
        (part.betaStart, part.betaEnd) = (betaStart, betaEnd)
    }
}
