import ArgumentParser
import Foundation
import ReverieDiffusion
import ReverieIO
import ReverieLanguage
import ReverieProjectors
import ReverieVision

/// `reverie convert DIR --output FILE.h5`: a Hugging Face checkpoint directory to a Reverie HDF5 checkpoint.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Import a Hugging Face checkpoint directory into a Reverie HDF5 checkpoint.",
        discussion: """
            DIR holds config.json and model.safetensors (or shards listed by model.safetensors.index.json; for \
            diffusers, diffusion_pytorch_model.safetensors), in float32, float16 or bfloat16. The architecture is \
            read from config.json (architectures[0], or diffusers' _class_name); supported: \
            \(ConvertCommand.converters.keys.sorted().joined(separator: ", ")). Every tensor keeps its Hugging Face \
            key, shapes are checked against config.json, and the checkpoint's model_config attribute is the text \
            of config.json. The output is written to a temporary file and renamed, so a failed run leaves nothing.
            """)

    /// Architecture name (config.json `architectures[0]`) → converter.
    static let converters: [String: (URL) throws -> Checkpoint] = [
        "LlamaForCausalLM": LanguageModel.convertHuggingFace(directory:),
        "Blip2QFormerModel": QFormer.convertHuggingFace(directory:),
        "SiglipVisionModel": VisionEncoder.convertHuggingFace(directory:),
        // The vision tower of a full SigLIP checkpoint (the text tower is left out).
        "SiglipModel": VisionEncoder.convertHuggingFace(directory:),
        // diffusers directories name their class in `_class_name` and keep weights in diffusion_pytorch_model.*.
        "AutoencoderKL": DiffusersImport.convert(directory:),
        "UNet2DConditionModel": DiffusersImport.convert(directory:),
    ]

    @Argument(help: "The Hugging Face checkpoint directory.", completion: .directory)
    var directory: String

    @Option(name: .shortAndLong, help: "The HDF5 checkpoint to write.")
    var output: String

    @Option(help: "Storage type of the weights: float32, float16 or bfloat16.")
    var dtype: String = "float32"

    @Flag(help: "Print one JSON object describing the result instead of text.")
    var json = false

    func run() throws {
        guard let storage = StorageDType(rawValue: dtype) else {
            throw ValidationError("--dtype must be float32, float16 or bfloat16, not '\(dtype)'")
        }
        let url = URL(fileURLWithPath: directory)
        let config = try HFConfigFile(url: url)
        guard let architecture = config.architecture ?? config.diffusersClassName else {
            throw config.invalid(
                "architectures", "missing (and no diffusers _class_name): cannot tell which model this is")
        }
        guard let convert = Self.converters[architecture] else {
            let supported = Self.converters.keys.sorted().joined(separator: ", ")
            throw config.invalid("architectures", "'\(architecture)' is not supported; supported: \(supported)")
        }
        let checkpoint = try convert(url)
        try checkpoint.write(to: URL(fileURLWithPath: output), dtype: storage)
        let parameters = checkpoint.model.values.reduce(0) { $0 + $1.count }
        if json {
            let object: [String: Any] = [
                "architecture": architecture, "output": output, "dtype": dtype,
                "tensors": checkpoint.model.count, "parameters": parameters,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(
                "converted \(architecture) from \(directory): \(checkpoint.model.count) tensors, "
                    + "\(parameters) parameters → \(output) (\(dtype))")
        }
    }
}
