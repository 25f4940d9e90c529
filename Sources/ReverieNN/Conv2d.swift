import ReverieCore

/// A 2-D convolution over [B, C, H, W] images (`torch.nn.Conv2d`, square kernels, zero padding).
///
/// Keys: `weight` [out, in, k, k], `bias` [out] (when enabled) — PyTorch's layout, so diffusers UNet and VAE weights
/// load without transposes. Weight and bias are uniform in ±1/√(in·k·k), as `Conv2d.reset_parameters`.
public final class Conv2d: Module {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    /// [out, in, k, k]
    public let weight: Tensor
    /// [out], or nil.
    public let bias: Tensor?

    public init(
        inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, rng: inout RNG
    ) throws {
        try requirePositive(
            "Conv2d",
            [
                "inChannels": inChannels, "outChannels": outChannels,
                "kernelSize": kernelSize, "stride": stride,
            ])
        guard padding >= 0 else {
            throw ModuleError.invalidConfiguration(module: "Conv2d", detail: "padding \(padding) is negative")
        }
        (self.inChannels, self.outChannels, self.kernelSize) = (inChannels, outChannels, kernelSize)
        (self.stride, self.padding) = (stride, padding)
        let fanIn = inChannels * kernelSize * kernelSize
        (weight, self.bias) = Init.weightAndBias(
            [outChannels, inChannels, kernelSize, kernelSize], fanIn: fanIn,
            bias: bias, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.parameter("weight", weight)
        v.parameter("bias", bias)
    }

    /// x [B, in, H, W] → [B, out, (H + 2p − k) / s + 1, (W + 2p − k) / s + 1]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == inChannels else {
            throw TensorError.shapeMismatch(
                op: "Conv2d(\(inChannels) → \(outChannels))",
                detail: "input \(shapeString(x.shape)), expected [B, \(inChannels), H, W]")
        }
        return try conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}
