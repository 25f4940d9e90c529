import Foundation
import ReverieCore
import ReverieData
import ReverieDiffusion
import ReverieMultimodal
import ReverieNN
import ReverieRuntime

/// Where a part's weights come from: built fresh from its options, or loaded from a checkpoint.
public enum PartSource: Sendable, Equatable {
    case build
    /// `init: <run>` (the `final.h5` of the run of that name under the recipe's root: a stage kind such as `mllm`,
    /// or a stage's `name`, such as `edits`) or `init: path/to/file.h5`.
    case checkpoint(path: String, run: String?, line: Int?)
    /// `init: hf:DIR`: a Hugging Face / diffusers directory, converted on the fly (`PretrainedParts`).
    case pretrained(directory: String, line: Int?)
}

/// One stage recipe, fully read and checked (not yet built).
public struct Recipe: Sendable {
    /// The file it came from and its text with every `--set` applied (embedded into checkpoints).
    public var file: String
    public var resolvedYAML: String
    /// The recipe as read (for placing errors of checks across sections at their lines).
    public var node: RecipeNode
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
    /// LoRA adapters added to a pretrained part (`llm: {init: hf:DIR, lora: {…}}`).
    public var adapters: [PartName: LoRAOptions] = [:]
    /// The options written beside `init: hf:DIR`, which the part's importer reads for what the directory lacks.
    public var pretrainedOptions: [PartName: ModelParts] = [:]
    public var freeze: [PartName] = []
    /// `freeze:` entries that are key patterns (`llm.model.layers.0-11.*`) rather than whole parts.
    public var freezePatterns: [KeyPattern] = []
    /// The stage's own `loss:` configuration (`StageDefinition.Loss`); read it with `loss(_:)`.
    public var loss: any StageLossConfig
    public var optim = OptimSpec()
    public var loop = LoopSpec()
    public var eval = EvalSpec()

    /// The stage's loss configuration as its type (the type's defaults when the recipe is of another stage).
    public func loss<L: StageLossConfig>(_ type: L.Type) -> L { loss as? L ?? L() }

    /// The error for the dotted `key` (`loss.change`), at the line of the deepest node of it the recipe has.
    public func error(_ key: String, _ message: String) -> RecipeError {
        RecipeDecoder.locate(ConfigurationError(key: key, message), in: node, path: "")
    }

    /// Where runs go unless a recipe names its `root`.
    public static let defaultRoot = "runs/shapes"

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
