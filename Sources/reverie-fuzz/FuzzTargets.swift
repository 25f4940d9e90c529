import Foundation
import ReverieData
import ReverieIO
import ReverieLanguage
import ReverieTrain
import ReverieVision

/// The in-process fuzz targets: each reads bytes as one kind of input a user hands Reverie, through the same code
/// the commands use. A target may refuse its input (a thrown error is the right answer to garbage) but must never
/// trap, hang or allocate without bound; libFuzzer (`make libfuzz`) searches for inputs that do, guided by coverage.
enum FuzzTargets {
    typealias Target = @Sendable ([UInt8]) -> Void

    static let all: [String: Target] = [
        "image": image, "recipe": recipe, "tokenizer": tokenizer, "safetensors": safetensors, "manifest": manifest,
        "checkpoint": checkpoint, "tensorboard": tensorboard, "hfconfig": hfconfig,
    ]

    /// PNG or JPEG bytes, decoded under the pixel limit uploads get.
    static let image: Target = { bytes in _ = try? Image(encoded: bytes, maxPixels: 1 << 20) }

    /// A stage or pipeline recipe's YAML text, parsed and checked key by key.
    static let recipe: Target = { bytes in
        guard let node = try? RecipeNode.parse(yaml: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
        else { return }
        _ = try? Recipe(node: node)
        _ = try? PipelineRecipe(node: node)
    }

    /// A tokenizer.json, then a sentence through it.
    static let tokenizer: Target = { bytes in
        guard let t = try? Tokenizer(json: Data(bytes)) else { return }
        let ids = t.encode("a small red circle at the top left, then make it blue", addSpecialTokens: true)
        _ = try? t.decode(ids)
    }

    /// A safetensors file, each tensor read as floats.
    static let safetensors: Target = { bytes in
        withFile(bytes, "fuzz.safetensors") { url in
            guard let file = try? SafetensorsFile(url: url) else { return }
            _ = try? file.tensors()
        }
    }

    /// A JSONL manifest, bad lines counted (files are not opened).
    static let manifest: Target = { bytes in
        withFile(bytes, "fuzz.jsonl") { url in _ = try? Manifest(contentsOf: url, skipBad: true, checkFiles: false) }
    }

    /// An HDF5 checkpoint, every section read.
    static let checkpoint: Target = { bytes in
        withFile(bytes, "fuzz.h5") { url in _ = try? Checkpoint.read(from: url) }
    }

    /// A TensorBoard event file.
    static let tensorboard: Target = { bytes in
        withFile(bytes, "events.out.tfevents.fuzz") { url in _ = try? TensorBoardEventReader.read(url) }
    }

    /// A Hugging Face config.json, read as each model family's config.
    static let hfconfig: Target = { bytes in
        withFile(bytes, "config.json") { url in
            guard let file = try? HFConfigFile(url: url) else { return }
            _ = try? LlamaConfig(huggingFace: file)
            _ = try? VisionEncoderConfig(huggingFace: file)
        }
    }

    /// One scratch directory per process: the file-reading targets write their input there first.
    static let scratch: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reverie-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    static func withFile(_ bytes: [UInt8], _ name: String, _ body: (URL) -> Void) {
        let url = scratch.appendingPathComponent(name)
        guard (try? Data(bytes).write(to: url)) != nil else { return }
        body(url)
    }
}
