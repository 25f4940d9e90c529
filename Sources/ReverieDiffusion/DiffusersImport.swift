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
        let expected = reference.namedTensors()
        let known = Set(expected.map(\.key))
        if let stray = weights.tensorNames.first(where: { !known.contains($0) }) {
            throw SafetensorsError.badHeader(
                path: directory.appendingPathComponent("diffusion_pytorch_model.safetensors").path,
                detail: "tensor '\(stray)' is not a parameter of \(className) with this config.json")
        }
        var state: [String: Tensor] = [:]
        for (key, tensor, _) in expected { state[key] = try weights.tensor(key, shape: tensor.shape) }
        var checkpoint = Checkpoint(model: state)
        checkpoint.modelConfig = file.text
        return checkpoint
    }
}
