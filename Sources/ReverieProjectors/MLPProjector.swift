// port of transformers/models/llava/modeling_llava.py (LlavaMultiModalProjector), with configurable depth
import ReverieCore
import ReverieNN

/// LLaVA-1.5's projector: Linear, then (GELU, Linear) × (depth − 1); Q = P. Option `depth` (default 2).
/// Keys: `linear_1.*`, `linear_2.*`, … (`linear_1` and `linear_2` are HF `LlavaMultiModalProjector`'s names).
public final class MLPProjector: Module, Projector {
    public static let kind = "mlp"
    public let linears: [Linear]
    public var outputDim: Int { linears[linears.count - 1].outFeatures }

    public struct Options: ProjectorOptions, Equatable {
        /// Linear layers (≥ 1).
        public var depth = 2

        public init() {}
        public init(depth: Int) { self.depth = depth }

        public init(from decoder: Decoder) throws {
            try decoder.container(keyedBy: CodingKeys.self).update(&depth, .depth)
        }

        public func validate() throws { try require(depth, in: 1...64, "depth") }
    }

    public init(options: Options, dimensions: ProjectorDimensions, rng: inout RNG) throws {
        let (dv, d) = (dimensions.inputDim, dimensions.outputDim)
        var linears = [try Linear(inFeatures: dv, outFeatures: d, rng: &rng)]
        for _ in 1..<max(options.depth, 1) { linears.append(try Linear(inFeatures: d, outFeatures: d, rng: &rng)) }
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
