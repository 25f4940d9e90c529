import ReverieCore
import ReverieNN

/// Maps a vision encoder's patch features to the language model's visual tokens (docs/DESIGN.md §1):
/// features [B, P, Dv] → tokens [B, Q, D]. Every kind is a `Module`, so it trains, freezes and saves like any other.
///
/// A new kind is one file (a `Projector` with its `Options`) and one `ProjectorRegistry.register` line.
public protocol Projector: Module {
    /// The kind's own options, decoded from the recipe's `projector:` map beside `type` (and stored the same way
    /// in a checkpoint's `model_config`).
    associatedtype Options: ProjectorOptions
    /// The `type` a recipe names this kind by (`linear`, `mlp`, `qformer`, `resampler`, `pool`).
    static var kind: String { get }
    init(options: Options, dimensions: ProjectorDimensions, rng: inout RNG) throws
    /// Width D of the produced tokens (the language model's hidden size).
    var outputDim: Int { get }
    /// Q, the number of tokens produced from P patches.
    func outputTokens(patches: Int) -> Int
    /// features [B, P, Dv] → [B, Q, D]
    func callAsFunction(_ features: Tensor) throws -> Tensor
}

/// A projector kind's options: defaults on its stored properties, checks in `validate()` (alone) and
/// `validate(dimensions:)` (against the widths it connects). Keys are snake_case, as a recipe writes them.
public protocol ProjectorOptions: Codable, Sendable, SelfChecking {
    init()
    func validate(dimensions: ProjectorDimensions) throws
}

extension ProjectorOptions {
    public func validate(dimensions: ProjectorDimensions) throws {}
}

/// The widths a projector connects, which come from the other parts, not from its options.
public struct ProjectorDimensions: Sendable, Equatable {
    /// Dv, the vision encoder's feature width.
    public var inputDim: Int
    /// D, the language model's hidden size.
    public var outputDim: Int
    /// P, patches per image (a square grid for `pool`).
    public var patches: Int

    public init(inputDim: Int, outputDim: Int, patches: Int) {
        (self.inputDim, self.outputDim, self.patches) = (inputDim, outputDim, patches)
    }
}

/// Options of a kind that has none.
public struct NoProjectorOptions: ProjectorOptions, Equatable {
    public init() {}
}
