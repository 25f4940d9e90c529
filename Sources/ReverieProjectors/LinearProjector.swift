import ReverieCore
import ReverieNN

/// One Linear layer per patch: Q = P. Keys: `proj.weight` [D, Dv], `proj.bias` [D].
public final class LinearProjector: Module, Projector {
    public static let kind = "linear"
    public let proj: Linear
    public var outputDim: Int { proj.outFeatures }

    public init(spec: ProjectorSpec, rng: inout RNG) throws {
        try spec.reader().finish()
        proj = try Linear(inFeatures: spec.inputDim, outFeatures: spec.outputDim, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) { v.child("proj", proj) }

    public func outputTokens(patches: Int) -> Int { patches }

    /// features [B, P, Dv] → [B, P, D]
    public func callAsFunction(_ features: Tensor) throws -> Tensor { try proj(features) }
}
