/// The configurable parts of a Reverie model, as a recipe names them under `model:` and a checkpoint's
/// `model_config` stores them.
///
/// Each part owns fixed parameter-key prefixes (`vision` → `vision_encoder.…`), the same in every stage, so any
/// part can be initialised from any checkpoint that holds it.
public enum PartName: String, CaseIterable, Codable, Sendable {
    case vision, text, vae, unet, projector, llm, output

    /// Key prefixes of the part's tensors.
    public var prefixes: [String] {
        switch self {
        case .vision: return ["vision_encoder"]
        case .text:
            return [
                "text_tower", "image_projection", "logit_scale", "logit_bias", "patch_head",
                "patch_color_head",
            ]
        case .vae: return ["decoder.vae"]
        case .unet: return ["decoder.unet", "decoder.null_condition"]
        case .projector: return ["projector", "visual_positions"]
        case .llm: return ["llm"]
        case .output: return ["output_queries", "condition_input", "output_head", "source_input", "change_head"]
        }
    }

    /// Whether `key` belongs to this part.
    public func owns(_ key: String) -> Bool {
        prefixes.contains { key == $0 || key.hasPrefix($0 + ".") }
    }
}
