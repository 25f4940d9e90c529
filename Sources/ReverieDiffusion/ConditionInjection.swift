import ReverieCore
import ReverieNN

/// Spatial conditions added at every resolution of a UNet, not only concatenated to its input: before each down
/// block, the mid block, each up block and the output head, a 1×1 convolution of the conditions laid on that
/// level's grid (`spatialConditionMap`, average-pooled where the level is coarser than the token grid) is added to
/// the features. A decoder that must redraw what its conditions describe then reads them where it draws, at the
/// finest level too, instead of through the 32 channels its first convolution squeezes them into. Initialised to
/// zero: a new injection leaves the UNet as it was. A Reverie extension (not in diffusers).
///
/// Keys: `down.i`, `mid`, `up.i`, `out` (each a `Conv2d` with `weight` [C, D, 1, 1] and `bias` [C]).
public final class ConditionInjection: Module {
    public let down: [Conv2d]
    public let mid: Conv2d
    public let up: [Conv2d]
    public let out: Conv2d

    /// - Parameters:
    ///   - channels: the UNet's `block_out_channels`.
    ///   - conditionDim: the width D of a condition token.
    init(channels ch: [Int], conditionDim: Int, rng: inout RNG) throws {
        let n = ch.count, rev = Array(ch.reversed())
        func conv(_ c: Int) throws -> Conv2d {
            let conv = try Conv2d(inChannels: conditionDim, outChannels: c, kernelSize: 1, rng: &rng)
            for t in conv.parameters() { Init.constant(t, 0) }
            return conv
        }
        down = try (0..<n).map { i in try conv(i == 0 ? ch[0] : ch[i - 1]) }
        mid = try conv(ch[n - 1])
        up = try (0..<n).map { i in try conv(i == 0 ? rev[0] : rev[i - 1]) }
        out = try conv(ch[0])
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.children("down", down)
        v.child("mid", mid)
        v.children("up", up)
        v.child("out", out)
    }

    /// h [B, C, H, W] + `conv`(conditions [B, s², D] on an H × W grid) → [B, C, H, W]. Differentiable in both.
    func add(_ h: Tensor, _ conv: Conv2d, conditions: Tensor) throws -> Tensor {
        try h + conv(Self.map(conditions, height: h.shape[2], width: h.shape[3]))
    }

    /// The conditions on an h × w grid: nearest-upsampled where finer than the s × s token grid, average-pooled where
    /// coarser.
    static func map(_ conditions: Tensor, height: Int, width: Int) throws -> Tensor {
        let s = Int(Double(conditions.shape[1]).squareRoot().rounded())
        guard height == width, height < s, s % height == 0 else {
            return try spatialConditionMap(conditions, size: (height, width))
        }
        return try avgPool2d(spatialConditionMap(conditions, size: (s, s)), kernel: s / height)
    }
}
