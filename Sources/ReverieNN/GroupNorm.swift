import ReverieCore

/// Group normalisation over [B, C, ...] (`torch.nn.GroupNorm`): channels split into `groups`, each normalised over
/// its channels and all spatial positions. Keys: `weight` [C] (ones), `bias` [C] (zeros), absent when not affine.
public final class GroupNorm: Module {
    public let groups: Int
    public let channels: Int
    public let eps: Float
    public let weight: Tensor?
    public let bias: Tensor?

    /// - Throws: `ModuleError.invalidConfiguration` unless `groups` divides `channels`.
    public init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) throws {
        try requirePositive("GroupNorm", ["groups": groups, "channels": channels])
        guard channels % groups == 0 else {
            throw ModuleError.invalidConfiguration(
                module: "GroupNorm", detail: "channels \(channels) is not divisible by groups \(groups)")
        }
        (self.groups, self.channels, self.eps) = (groups, channels, eps)
        weight = affine ? Tensor(repeating: 1, shape: [channels], requiresGrad: true) : nil
        bias = affine ? Init.parameter([channels]) : nil
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("weight", weight)
        v.parameter("bias", bias)
    }

    /// x [B, C, ...] → same shape
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 2, x.shape[1] == channels else {
            throw TensorError.shapeMismatch(
                op: "GroupNorm(\(groups), \(channels))",
                detail: "input \(shapeString(x.shape)), expected [B, \(channels), ...]")
        }
        return try groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps)
    }
}
