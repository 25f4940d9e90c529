// port of diffusers `ResnetBlock2D` (models/resnet.py), time_embedding_norm "default"
import ReverieCore
import ReverieNN

/// GroupNorm → act → conv3×3 → (+ projected time embedding) → GroupNorm → act → conv3×3, plus a residual
/// (through a 1×1 `conv_shortcut` when the channel count changes), divided by the style's output scale.
///
/// Keys: `norm1`, `conv1`, `time_emb_proj` (when `tembChannels` is set), `norm2`, `conv2`, `conv_shortcut`.
public final class ResnetBlock2D: Module {
    public let norm1: GroupNorm
    public let conv1: Conv2d
    public let timeEmbProj: Linear?
    public let norm2: GroupNorm
    public let conv2: Conv2d
    public let convShortcut: Conv2d?
    public let style: ResnetStyle

    public init(
        inChannels: Int, outChannels: Int, tembChannels: Int?, groups: Int, eps: Float,
        style: ResnetStyle = ResnetStyle(), rng: inout RNG
    ) throws {
        self.style = style
        norm1 = try GroupNorm(groups: groups, channels: inChannels, eps: eps)
        conv1 = try Conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: 3, padding: 1, rng: &rng)
        timeEmbProj = try tembChannels.map { try Linear(inFeatures: $0, outFeatures: outChannels, rng: &rng) }
        norm2 = try GroupNorm(groups: groups, channels: outChannels, eps: eps)
        conv2 = try Conv2d(inChannels: outChannels, outChannels: outChannels, kernelSize: 3, padding: 1, rng: &rng)
        convShortcut =
            inChannels == outChannels
            ? nil
            : try Conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: 1, rng: &rng)
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("norm1", norm1)
        v.child("conv1", conv1)
        v.child("time_emb_proj", timeEmbProj)
        v.child("norm2", norm2)
        v.child("conv2", conv2)
        v.child("conv_shortcut", convShortcut)
    }

    /// x [B, in, H, W], temb [B, tembChannels] or nil → [B, out, H, W]
    public func callAsFunction(_ x: Tensor, temb: Tensor? = nil) throws -> Tensor {
        guard x.rank == 4 else {
            throw TensorError.shapeMismatch(
                op: "ResnetBlock2D", detail: "input \(shapeString(x.shape)), expected [B, C, H, W]")
        }
        let act = style.activation
        var h = try conv1(act(norm1(x)))  // [B, out, H, W]
        if let timeEmbProj {
            guard let temb, temb.rank == 2, temb.shape[0] == x.shape[0] else {
                throw TensorError.invalidArgument(
                    op: "ResnetBlock2D", detail: "needs a time embedding [\(x.shape[0]), \(timeEmbProj.inFeatures)]")
            }
            let t = try timeEmbProj(act(temb))  // [B, out]
            h = try h + t.reshape([t.shape[0], t.shape[1], 1, 1])
        }
        h = try conv2(act(norm2(h)))
        let out = try (convShortcut?(x) ?? x) + h
        return style.outputScale == 1 ? out : out / style.outputScale
    }
}
