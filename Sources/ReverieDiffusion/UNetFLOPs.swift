import ReverieNN

extension UNet2DConditionModel {
    /// Multiply-add FLOPs (2 per multiply-add) of one forward pass: every convolution, linear layer and attention
    /// product, counted from the model's own layers at the resolution each runs at. Normalisations, activations
    /// and elementwise work are left out (they are memory-bound and small next to the products). A training step
    /// costs about three times this (forward, and two products per layer backward).
    ///
    /// - Parameters: batch B, latent height and width, condition tokens S.
    public func forwardFLOPs(batch b: Int, height: Int, width: Int, tokens s: Int) -> Double {
        let bd = Double(b)
        func conv(_ c: Conv2d, _ h: Int, _ w: Int) -> Double {  // output resolution h × w
            2 * bd * Double(h * w) * Double(c.weight.count)
        }
        func linear(_ l: Linear, rows: Int) -> Double { 2 * bd * Double(rows) * Double(l.weight.count) }
        func resnet(_ r: ResnetBlock2D, _ h: Int, _ w: Int) -> Double {
            conv(r.conv1, h, w) + conv(r.conv2, h, w) + (r.convShortcut.map { conv($0, h, w) } ?? 0)
                + (r.timeEmbProj.map { linear($0, rows: 1) } ?? 0)
        }
        func attention(_ a: MultiHeadAttention, queries t: Int, keys k: Int) -> Double {
            linear(a.qProj, rows: t) + linear(a.kProj, rows: k) + linear(a.vProj, rows: k) + linear(a.oProj, rows: t)
                + 4 * bd * Double(a.heads * a.headDim) * Double(t * k)
        }
        func transformer(_ x: Transformer2DModel, _ h: Int, _ w: Int) -> Double {
            let t = h * w
            func projection(_ p: TokenProjection) -> Double {
                switch p {
                case let .conv(c): return conv(c, h, w)
                case let .linear(l): return linear(l, rows: t)
                }
            }
            var f = projection(x.projIn) + projection(x.projOut)
            for blk in x.transformerBlocks {
                f += attention(blk.attn1, queries: t, keys: t) + attention(blk.attn2, queries: t, keys: s)
                f += linear(blk.ff.proj, rows: t) + linear(blk.ff.out, rows: t)
            }
            return f
        }
        var (h, w) = (height, width)
        var f = conv(convIn, h, w) + linear(timeEmbedding.linear1, rows: 1) + linear(timeEmbedding.linear2, rows: 1)
        for block in downBlocks {
            for (i, r) in block.resnets.enumerated() {
                f += resnet(r, h, w)
                if i < block.attentions.count { f += transformer(block.attentions[i], h, w) }
            }
            for d in block.downsamplers {
                (h, w) = ((h + 1) / 2, (w + 1) / 2)
                f += conv(d.conv, h, w)
            }
        }
        f += midBlock.resnets.reduce(0) { $0 + resnet($1, h, w) } + transformer(midBlock.attentions[0], h, w)
        for block in upBlocks {
            for (i, r) in block.resnets.enumerated() {
                f += resnet(r, h, w)
                if i < block.attentions.count { f += transformer(block.attentions[i], h, w) }
            }
            for u in block.upsamplers {
                (h, w) = (2 * h, 2 * w)
                f += conv(u.conv, h, w)
            }
        }
        return f + conv(convOut, h, w)
    }
}
