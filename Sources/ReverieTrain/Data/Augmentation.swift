import ReverieCore

/// Random crop and horizontal flip of training images (`data.augment`, read by the vae and decoder stages), drawn
/// per item from a generator seeded by the item's index, so a run stays a pure function of its data position. An
/// edit pair's source and target get the same crop and flip.
public struct Augmentation: Codable, Sendable, Equatable, SelfChecking {
    /// Flip half the images left to right.
    public var flip = false
    /// The smallest crop side as a share of the image (1: no crop); a crop of side s ∈ [crop, 1], placed at random,
    /// is resized back to the canvas (bilinear).
    public var crop = 1.0
    public var seed: UInt64 = 0

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&flip, .flip)
        try c.update(&crop, .crop)
        try c.update(&seed, .seed)
    }

    public func validate() throws {
        try require(crop > 0.1 && crop <= 1, "crop", "must be in 0.1...1.0 (a share of the image's side), got \(crop)")
    }

    public var isIdentity: Bool { !flip && crop >= 1 }

    /// `images` [B, 3, N, N] of the items at `indices`, each cropped and flipped by its own draw.
    public func apply(_ images: Tensor, indices: [Int]) throws -> Tensor {
        guard !isIdentity else { return images }
        let (b, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let x = images.toArray()
        var out = [Float](repeating: 0, count: x.count)
        for (item, index) in indices.prefix(b).enumerated() {
            var g = RNG(seed: seed &* 0xD134_2543_DE82_EF95 ^ UInt64(truncatingIfNeeded: index))
            let side = crop >= 1 ? 1.0 : crop + Double(g.uniform()) * (1 - crop)
            let (ch, cw) = (Double(h) * side, Double(w) * side)
            let (top, left) = (Double(g.uniform()) * (Double(h) - ch), Double(g.uniform()) * (Double(w) - cw))
            let mirror = flip && g.uniform() < 0.5
            for y in 0..<h {
                // The output pixel's centre in source coordinates, clamped to the crop.
                let sy = min(max(top + (Double(y) + 0.5) * ch / Double(h) - 0.5, 0), Double(h - 1))
                let (y0, fy) = (Int(sy), Float(sy - Double(Int(sy))))
                let y1 = min(y0 + 1, h - 1)
                for xo in 0..<w {
                    let col = mirror ? w - 1 - xo : xo
                    let sx = min(max(left + (Double(col) + 0.5) * cw / Double(w) - 0.5, 0), Double(w - 1))
                    let (x0, fx) = (Int(sx), Float(sx - Double(Int(sx))))
                    let x1 = min(x0 + 1, w - 1)
                    for k in 0..<c {
                        let p = (item * c + k) * h * w
                        let top = x[p + y0 * w + x0] * (1 - fx) + x[p + y0 * w + x1] * fx
                        let bottom = x[p + y1 * w + x0] * (1 - fx) + x[p + y1 * w + x1] * fx
                        out[p + y * w + xo] = top * (1 - fy) + bottom * fy
                    }
                }
            }
        }
        return try Tensor(shape: images.shape, data: out)
    }
}
