// port of diffusers `Downsample2D` (models/downsampling.py) with use_conv=True
import ReverieCore
import ReverieNN

/// A stride-2 3×3 convolution. With `padding` 0 the input is first padded by one on the right and bottom only
/// (the VAE encoder's layout); with `padding` 1 it is padded on all sides (the UNet's). Key: `conv`.
public final class Downsample2D: Module {
    public let conv: Conv2d
    public let padding: Int

    public init(channels: Int, outChannels: Int? = nil, padding: Int, rng: inout RNG) throws {
        self.padding = padding
        conv = try Conv2d(
            inChannels: channels, outChannels: outChannels ?? channels, kernelSize: 3, stride: 2,
            padding: padding, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) { v.child("conv", conv) }

    /// x [B, C, H, W] → [B, out, ⌈H/2⌉, ⌈W/2⌉]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try conv(padding == 0 ? padRightBottom(x) : x)
    }
}

/// Zero-pads [B, C, H, W] to [B, C, H + 1, W + 1] (`F.pad(x, (0, 1, 0, 1))`); differentiable through `concat`.
func padRightBottom(_ x: Tensor) throws -> Tensor {
    guard x.rank == 4 else {
        throw TensorError.shapeMismatch(op: "padRightBottom", detail: "input \(shapeString(x.shape)), expected rank 4")
    }
    let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let wide = try concat([x, Tensor(zeros: [b, c, h, 1])], axis: 3)  // [B, C, H, W + 1]
    return try concat([wide, Tensor(zeros: [b, c, 1, w + 1])], axis: 2)  // [B, C, H + 1, W + 1]
}
