// port of transformers/models/llava/modeling_llava.py (LlavaMultiModalProjector), with configurable depth
import ReverieCore
import ReverieNN

/// LLaVA-1.5's projector: Linear, then (GELU, Linear) × (depth − 1); Q = P. Option `depth` (default 2).
/// Keys: `linear_1.*`, `linear_2.*`, … (`linear_1` and `linear_2` are HF `LlavaMultiModalProjector`'s names).
public final class MLPProjector: Module, Projector {
    public static let kind = "mlp"
    public let linears: [Linear]
    public var outputDim: Int { linears[linears.count - 1].outFeatures }

    public init(spec: ProjectorSpec, rng: inout RNG) throws {
        var options = spec.reader()
        let depth = try options.int("depth", default: 2)
        try options.finish()
        var linears = [try Linear(inFeatures: spec.inputDim, outFeatures: spec.outputDim, rng: &rng)]
        for _ in 1..<depth {
            linears.append(try Linear(inFeatures: spec.outputDim, outFeatures: spec.outputDim, rng: &rng))
        }
        self.linears = linears
    }

    override public func visit(_ v: inout ModuleVisitor) {
        for (i, linear) in linears.enumerated() { v.child("linear_\(i + 1)", linear) }
    }

    public func outputTokens(patches: Int) -> Int { patches }

    /// features [B, P, Dv] → [B, P, D]
    public func callAsFunction(_ features: Tensor) throws -> Tensor {
        var h = try linears[0](features)
        for linear in linears.dropFirst() { h = try linear(h.gelu()) }
        return h
    }
}
