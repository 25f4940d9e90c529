import ArgumentParser
import Foundation
import ReverieRuntime

/// `reverie export CHECKPOINT --part llm|vision|projector|vae|unet --out DIR`: a trained part as a directory Python's `from_pretrained` loads.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a part of a checkpoint as a Hugging Face directory (safetensors + config.json).",
        discussion: """
            Parts: \(PartExport.registry.kinds.joined(separator: ", ")). The llm part becomes a LlamaForCausalLM \
            directory (config.json, model.safetensors in float32, tokenizer.json for a BPE model) that \
            transformers' from_pretrained loads; vision a SiglipVisionModel; vae and unet diffusers \
            AutoencoderKL and UNet2DConditionModel directories, the unet with its scheduler_config.json and a learned \
            null condition (null_condition.safetensors); projector its weights under LLaVA's / BLIP-2's names and its \
            options as config.json.
            """)

    @Argument(help: "A Reverie checkpoint (.h5): a trained model, or a converted Llama.", completion: .file())
    var checkpoint: String

    @Option(help: "The part to export.")
    var part = "llm"

    @Option(help: "The directory to write (created if missing).")
    var out: String

    func run() throws {
        let exporter: PartExporter
        do { exporter = try PartExport.registry.entry(part, key: "--part") } catch {
            throw ValidationError("\(error)")
        }
        let files = try exporter.write(URL(fileURLWithPath: checkpoint), URL(fileURLWithPath: out, isDirectory: true))
        for file in files { print(file.path) }
    }
}
