import ReverieCore
import ReverieNN

/// One Linear layer per patch: Q = P. Keys: `proj.weight` [D, Dv], `proj.bias` [D].
public final class LinearProjector: Module, Projector {
    public static let kind = "linear"
    public let proj: Linear
    public var outputDim: Int { proj.outFeatures }

    public init(options: NoProjectorOptions = .init(), dimensions: ProjectorDimensions, rng: inout RNG) throws {
        proj = try Linear(inFeatures: dimensions.inputDim, outFeatures: dimensions.outputDim, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) { v.child("proj", proj) }

    public func outputTokens(patches: Int) -> Int { patches }

    /// features [B, P, Dv] → [B, P, D]
    public func callAsFunction(_ features: Tensor) throws -> Tensor { try proj(features) }
}
