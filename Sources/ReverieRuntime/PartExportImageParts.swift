import Foundation
import ReverieCore
import ReverieDiffusion
import ReverieIO
import ReverieNN
import ReverieVision

extension PartExport {
    /// The vision encoder as a `SiglipVisionModel` directory (`vision_use_head: false`: Reverie reads patch
    /// features, and has no pooling head to hand back); LoRA adapters merged, and in PEFT's layout under
    /// `adapter/`.
    public static let siglip = PartExporter { checkpoint, directory in
        let out = ExportDirectory(checkpoint: checkpoint, directory: directory)
        let part = try out.parts(.vision).vision!
        var rng = RNG(seed: 0)
        var files: [URL] = []
        var tensors = try Checkpoint.readModel(from: checkpoint, prefix: "vision_encoder")
        if let lora = part.lora {
            files += try writePEFT(
                tensors, lora, to: directory.appendingPathComponent("adapter"), task: "FEATURE_EXTRACTION",
                keyPrefix: "vision_model.")
            tensors = try merged(tensors, scale: lora.alpha / Float(lora.rank))
        }
        tensors = try out.tensors(
            tensors, prefix: "vision_encoder", reference: VisionEncoder(config: part.encoderConfig, rng: &rng))
        let config: [String: Any] = [
            "architectures": ["SiglipVisionModel"], "model_type": "siglip_vision_model",
            "hidden_size": part.hidden, "intermediate_size": part.intermediate, "num_hidden_layers": part.layers,
            "num_attention_heads": part.heads, "image_size": part.imageSize, "patch_size": part.patch,
            "num_channels": 3, "layer_norm_eps": part.normEps, "hidden_act": part.activation.rawValue,
            "attention_dropout": 0.0, "vision_use_head": false, "torch_dtype": "float32",
        ]
        return files + [
            try out.writeJSON(config, "config.json"),
            try out.writeWeights(tensors, "model.safetensors", keyPrefix: "vision_model."),
        ]
    }

    /// The autoencoder as a diffusers `AutoencoderKL` directory.
    public static let autoencoder = PartExporter { checkpoint, directory in
        let out = ExportDirectory(checkpoint: checkpoint, directory: directory)
        let config = try out.parts(.vae).vae!.autoencoderConfig
        var rng = RNG(seed: 0)
        let tensors = try out.tensors(prefix: "decoder.vae", reference: AutoencoderKL(config: config, rng: &rng))
        var object = try ExportDirectory.object(config)
        object["_class_name"] = "AutoencoderKL"
        // diffusers' defaults are one block of each; a config of more blocks must list them.
        object["down_block_types"] = Array(repeating: "DownEncoderBlock2D", count: config.blockOutChannels.count)
        object["up_block_types"] = Array(repeating: "UpDecoderBlock2D", count: config.blockOutChannels.count)
        return [
            try out.writeJSON(object, "config.json"),
            try out.writeWeights(tensors, "diffusion_pytorch_model.safetensors"),
        ]
    }

    /// The UNet as a diffusers `UNet2DConditionModel` directory, with the training schedule beside it as a
    /// `DDPMScheduler`'s scheduler_config.json (which `init: hf:` reads back) and, for a learned null condition,
    /// `null_condition.safetensors` ([tokens, width]: the unconditional input of classifier-free guidance). Extra
    /// input channels are in_channels as diffusers sees them (the source latent, then the spatial conditions).
    public static let unet = PartExporter { checkpoint, directory in
        let out = ExportDirectory(checkpoint: checkpoint, directory: directory)
        let parts = try out.parts(.unet)
        let part = parts.unet!
        guard !part.spatialInjection else {
            throw ConfigurationError(key: "unet.spatial_injection", "diffusers' UNet has no condition injection")
        }
        guard let latent = parts.vae?.latentChannels, let width = parts.vision?.hidden else {
            throw CheckpointError.notReverieCheckpoint(
                path: checkpoint.path, detail: "the UNet's input and condition widths need the vae and vision parts")
        }
        let config = try part.unetConfig(latentChannels: latent, conditionDim: width)
        var rng = RNG(seed: 0)
        let tensors = try out.tensors(
            prefix: "decoder.unet", reference: UNet2DConditionModel(config: config, rng: &rng))
        var object = try ExportDirectory.object(config)
        object["_class_name"] = "UNet2DConditionModel"
        // diffusers refuses num_attention_heads and reads the heads from its misnamed attention_head_dim.
        object["attention_head_dim"] = object.removeValue(forKey: "num_attention_heads")
        let scheduler: [String: Any] = [
            "_class_name": "DDPMScheduler", "num_train_timesteps": part.trainTimesteps,
            "beta_schedule": part.betaSchedule.rawValue, "beta_start": part.betaStart, "beta_end": part.betaEnd,
            "prediction_type": part.prediction.rawValue,
        ]
        var files = [
            try out.writeJSON(object, "config.json"),
            try out.writeWeights(tensors, "diffusion_pytorch_model.safetensors"),
            try out.writeJSON(scheduler, "scheduler_config.json"),
        ]
        let stored = try Checkpoint.read(from: checkpoint, sections: [.model], prefix: "decoder.null_condition")
        if let null = stored.model["decoder.null_condition"] {
            files.append(try out.writeWeights(["null_condition": null], "null_condition.safetensors"))
        }
        return files
    }
}

extension PartExport {
    /// The projector as its weights under its own names, which are the Python models' (`linear_1`, `linear_2`:
    /// LLaVA's `LlavaMultiModalProjector`; `query_tokens`, `qformer.…`, `language_projection`: BLIP-2's), learned
    /// visual positions as `visual_positions.…`, and a config.json of the part's options with the widths it maps
    /// between (no Python class loads a projector alone; `load_state_dict` into the matching module does).
    public static let projector = PartExporter { checkpoint, directory in
        let out = ExportDirectory(checkpoint: checkpoint, directory: directory)
        let parts = try out.parts(.projector)
        guard let part = parts.projector, let vision = parts.vision, let llm = parts.llm else {
            throw CheckpointError.notReverieCheckpoint(
                path: checkpoint.path, detail: "the projector's widths need the vision and llm parts")
        }
        var rng = RNG(seed: 0)
        let projector = try PartBuilding.projector(part, vision: vision, llm: llm, rng: &rng)
        var tensors = try out.tensors(prefix: "projector", reference: projector)
        for (key, tensor) in try Checkpoint.readModel(from: checkpoint, prefix: "visual_positions") {
            tensors["visual_positions.\(key)"] = tensor
        }
        var object = try ExportDirectory.object(part)
        (object["input_dim"], object["output_dim"], object["patches"]) = (
            vision.hidden, llm.hidden, vision.grid * vision.grid
        )
        return [
            try out.writeJSON(object, "config.json"),
            try out.writeWeights(tensors, "model.safetensors"),
        ]
    }
}
