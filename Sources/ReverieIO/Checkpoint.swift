import ReverieCore

/// A Reverie checkpoint in memory: the root attributes and the tensors of an HDF5 checkpoint file (docs/DESIGN.md §4).
///
/// ```
/// /                 attrs: format = "reverie", format_version, model_config, recipe, step, …
/// /model/<key path> one dataset per parameter, dots become groups:
///                   llm.layers.3.attn.q_proj.weight → /model/llm/layers/3/attn/q_proj/weight
/// /optimizer/...    optimizer moments per parameter and the step count
/// /state/...        RNG state, data-loader position
/// ```
///
/// Keys are dotted parameter keys; each dot becomes a group boundary in the file. `write(to:dtype:)` stores it
/// atomically, `read(from:sections:prefix:)` loads it back, `loadStateDict(_:into:strict:file:)` copies loaded
/// tensors into a model's parameters.
public struct Checkpoint: Sendable {
    /// The value of the root `format` attribute that marks a Reverie checkpoint.
    public static let formatName = "reverie"
    /// The layout version this build writes and the newest it reads.
    public static let formatVersion: Int64 = 1
    /// Root attributes the writer manages itself; user attributes may not use these names.
    public static let reservedAttributeNames: Set<String> = ["format", "format_version"]

    /// Root attributes other than `format` and `format_version` (which `write` adds and `read` checks).
    public var attributes: [String: CheckpointAttribute]
    /// Model parameters, stored under `/model`.
    public var model: [String: Tensor]
    /// Optimizer state per parameter (for AdamW, `<key>.exp_avg` / `<key>.exp_avg_sq`), stored under `/optimizer`.
    public var optimizer: [String: Tensor]
    /// Other training state as tensors, stored under `/state`.
    public var state: [String: Tensor]
    /// Exact 64-bit integer arrays of training state (optimizer step count, RNG words, data-loader position), which a
    /// Float32 tensor would round. Keys carry their section: `optimizer.step`, `state.rng`, `state.loader.position`;
    /// only `optimizer` and `state` may hold them. Stored as int64 datasets beside the tensors.
    public var integers: [String: [Int64]]

    public init(
        model: [String: Tensor] = [:], optimizer: [String: Tensor] = [:], state: [String: Tensor] = [:],
        integers: [String: [Int64]] = [:], attributes: [String: CheckpointAttribute] = [:]
    ) {
        self.model = model
        self.optimizer = optimizer
        self.state = state
        self.integers = integers
        self.attributes = attributes
    }

    /// The model configuration as JSON text (root attribute `model_config`).
    public var modelConfig: String? {
        get { attributes["model_config"]?.stringValue }
        set { attributes["model_config"] = newValue.map(CheckpointAttribute.string) }
    }

    /// The YAML text of the recipe that produced this checkpoint (root attribute `recipe`).
    public var recipe: String? {
        get { attributes["recipe"]?.stringValue }
        set { attributes["recipe"] = newValue.map(CheckpointAttribute.string) }
    }

    /// The training step at which the checkpoint was taken (root attribute `step`).
    public var step: Int64? {
        get { attributes["step"]?.intValue }
        set { attributes["step"] = newValue.map(CheckpointAttribute.int) }
    }

    /// The tensors of one section.
    public subscript(section: CheckpointSection) -> [String: Tensor] {
        get {
            switch section {
            case .model: return model
            case .optimizer: return optimizer
            case .state: return state
            }
        }
        set {
            switch section {
            case .model: model = newValue
            case .optimizer: optimizer = newValue
            case .state: state = newValue
            }
        }
    }
}

/// A root attribute value: HDF5 scalar string, 64-bit integer or double.
public enum CheckpointAttribute: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    case double(Double)

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The value as a double, for `.double` and `.int` alike.
    public var doubleValue: Double? {
        switch self {
        case .double(let value): return value
        case .int(let value): return Double(value)
        case .string: return nil
        }
    }

    public var description: String {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        }
    }
}

/// The top-level groups of a checkpoint that hold tensors.
public enum CheckpointSection: String, CaseIterable, Sendable {
    case model, optimizer, state

    /// All sections, the default for `Checkpoint.read`.
    public static let all = Set(allCases)
}

/// How `Checkpoint.write` stores the model's tensors. Optimizer and state tensors are always float32: AdamW's
/// second moments underflow in half precision. Reading widens every floating type back to Float32.
public enum StorageDType: String, CaseIterable, Sendable {
    case float32
    /// IEEE half, built like h5py's, so h5py and numpy read it as `float16`.
    case float16
    /// The top 16 bits of a float32 (8-bit exponent, 7-bit mantissa).
    case bfloat16
}
