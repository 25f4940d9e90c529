import Foundation
import ReverieCore
import ReverieIO
import ReverieNN

/// Imports a diffusers model directory (`config.json` + `diffusion_pytorch_model.safetensors`, single or sharded;
/// float32/float16/bfloat16) as a Reverie checkpoint: what `reverie convert` writes for `AutoencoderKL` and
/// `UNet2DConditionModel`. Reverie uses diffusers' own weight names, so the import checks names and shapes against
/// a model built from config.json and copies; `model_config` is the text of config.json.
public enum DiffusersImport {
    /// The diffusers `_class_name` values this import understands.
    public static let classNames: Set<String> = ["AutoencoderKL", "UNet2DConditionModel"]

    public static func convert(directory: URL) throws -> Checkpoint {
        let file = try HFConfigFile(url: directory)
        guard let className = file.diffusersClassName else {
            throw file.invalid("_class_name", "missing: not a diffusers model directory")
        }
        var rng = RNG(seed: 0)
        let reference: Module
        switch className {
        case "AutoencoderKL":
            reference = try AutoencoderKL(config: .decode(json: file.text, source: file.url.path), rng: &rng)
        case "UNet2DConditionModel":
            reference = try UNet2DConditionModel(config: .decode(json: file.text, source: file.url.path), rng: &rng)
        default:
            let supported = classNames.sorted().joined(separator: ", ")
            throw file.invalid("_class_name", "'\(className)' is not supported; supported: \(supported)")
        }
        let weights = try SafetensorsCheckpoint(directory: directory, stem: "diffusion_pytorch_model")
        var checkpoint = Checkpoint(
            model: try weights.stateDict(
                expected: reference.namedTensors().map { ($0.key, $0.tensor.shape) }, owner: className))
        checkpoint.modelConfig = file.text
        return checkpoint
    }
}
