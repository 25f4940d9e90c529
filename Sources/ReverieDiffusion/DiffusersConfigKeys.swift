import Foundation

/// Every key a diffusers `config.json` may hold, and what Reverie does with it: honours it, knows it cannot change
/// the model's outputs, or requires its default (a different value is an error naming the key and both values).
/// A key in no table is refused too, so a config is never silently half-read.
enum DiffusersConfigKeys {
    enum Rule {
        /// Read and implemented by the config type.
        case honoured
        /// Cannot change what the model computes here (metadata, an inference-only resolution hint, upcasting
        /// that float32 makes moot).
        case harmless
        /// Only this value (JSON) is implemented.
        case only(Any)
    }

    static let common: [String: Rule] = [
        "_class_name": .harmless, "_diffusers_version": .harmless, "_name_or_path": .harmless,
        "_use_default_values": .harmless, "sample_size": .harmless,
    ]

    static let unet: [String: Rule] = common.merging([
        "in_channels": .honoured, "out_channels": .honoured, "down_block_types": .honoured,
        "up_block_types": .honoured, "block_out_channels": .honoured, "layers_per_block": .honoured,
        "cross_attention_dim": .honoured, "attention_head_dim": .honoured, "num_attention_heads": .honoured,
        "norm_num_groups": .honoured, "norm_eps": .honoured, "flip_sin_to_cos": .honoured, "freq_shift": .honoured,
        "mid_block_type": .honoured, "time_embedding_type": .honoured, "transformer_layers_per_block": .honoured,
        "use_linear_projection": .honoured, "act_fn": .honoured, "center_input_sample": .honoured,
        "downsample_padding": .honoured, "mid_block_scale_factor": .honoured, "timestep_post_act": .honoured,
        "time_embedding_act_fn": .honoured,
        "encoder_hid_dim": .honoured, "encoder_hid_dim_type": .honoured, "reverie_spatial_injection": .honoured,
        "upcast_attention": .harmless, "addition_embed_type_num_heads": .harmless,
        // Only ResnetDownsampleBlock2D and the SimpleCrossAttn blocks read it, and their types are refused.
        "resnet_out_scale_factor": .harmless,
        "dropout": .only(0.0), "only_cross_attention": .only(false), "dual_cross_attention": .only(false),
        "class_embed_type": .only(NSNull()), "addition_embed_type": .only(NSNull()),
        "addition_time_embed_dim": .only(NSNull()), "num_class_embeds": .only(NSNull()),
        "time_embedding_dim": .only(NSNull()), "time_cond_proj_dim": .only(NSNull()),
        "projection_class_embeddings_input_dim": .only(NSNull()), "cross_attention_norm": .only(NSNull()),
        "reverse_transformer_layers_per_block": .only(NSNull()), "attention_type": .only("default"),
        "class_embeddings_concat": .only(false), "mid_block_only_cross_attention": .only(NSNull()),
        "resnet_time_scale_shift": .only("default"), "resnet_skip_time_act": .only(false),
        "conv_in_kernel": .only(3), "conv_out_kernel": .only(3),
    ]) { a, _ in a }

    static let autoencoder: [String: Rule] = common.merging([
        "in_channels": .honoured, "out_channels": .honoured, "down_block_types": .honoured,
        "up_block_types": .honoured, "block_out_channels": .honoured, "layers_per_block": .honoured,
        "act_fn": .honoured, "latent_channels": .honoured, "norm_num_groups": .honoured,
        "scaling_factor": .honoured, "use_quant_conv": .honoured, "use_post_quant_conv": .honoured,
        "mid_block_add_attention": .honoured, "force_upcast": .harmless,
        "shift_factor": .only(NSNull()), "latents_mean": .only(NSNull()), "latents_std": .only(NSNull()),
    ]) { a, _ in a }

    /// Throws for a key no rule knows or a value a rule does not allow.
    static func check(json: String, rules: [String: Rule], component: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw DiffusionError.invalidConfiguration(component: component, detail: "config is not a JSON object")
        }
        for key in object.keys.sorted() {
            let value = object[key]!
            guard let rule = rules[key] else {
                throw DiffusionError.invalidConfiguration(
                    component: component,
                    detail: "unknown key '\(key)' (\(describe(value))): Reverie does not implement it")
            }
            if case let .only(allowed) = rule, !same(value, allowed) {
                throw DiffusionError.invalidConfiguration(
                    component: component,
                    detail: "\(key) \(describe(value)) is not implemented (only \(describe(allowed)))")
            }
        }
    }

    /// JSON equality, numbers by value, and a list equal to a scalar when all its members are.
    static func same(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case (is NSNull, is NSNull): return true
        case let (x as String, y as String): return x == y
        case let (x as NSNumber, y as NSNumber): return x.doubleValue == y.doubleValue
        case let (x as [Any], _): return x.allSatisfy { same($0, b) }
        default: return false
        }
    }

    static func describe(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }
}
