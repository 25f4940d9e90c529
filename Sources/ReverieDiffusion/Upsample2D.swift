// port of diffusers `Upsample2D` (models/upsampling.py) with use_conv=True, nearest interpolation
import ReverieCore
import ReverieNN

/// Nearest-neighbour ×2 upsampling followed by a 3×3 convolution. Key: `conv`.
public final class Upsample2D: Module {
    public let conv: Conv2d

    public init(channels: Int, outChannels: Int? = nil, rng: inout RNG) throws {
        conv = try Conv2d(
            inChannels: channels, outChannels: outChannels ?? channels, kernelSize: 3, padding: 1,
            rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) { v.child("conv", conv) }

    /// x [B, C, H, W] → [B, out, 2H, 2W]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try conv(upsampleNearest(x, scale: 2))
    }
}
