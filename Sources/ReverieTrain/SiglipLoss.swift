import ReverieCore

extension SiglipStage {
    /// The siglip stage's `loss:`: the sigmoid loss, plus optional per-patch label terms (ShapesWorld scenes).
    public struct Loss: StageLossConfig, Equatable {
        /// The weight of the per-patch shape labels' cross-entropy (0 = none).
        public var patchLabels = 0.0
        /// The weight of the per-patch colour labels' cross-entropy (0 = none).
        public var patchColors = 0.0
        /// `learned` (trained linear heads read the patch labels) or `fixed` (constant orthonormal directions do,
        /// so the features themselves must carry shape and colour loudly along them).
        public var patchHead = PatchHeadKind.learned

        enum CodingKeys: String, CodingKey {
            case patchLabels = "patch_labels"
            case patchColors = "patch_colors"
            case patchHead = "patch_head"
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            try c.update(&patchLabels, .patchLabels)
            try c.update(&patchColors, .patchColors)
            try c.update(&patchHead, .patchHead)
        }

        public func validate() throws {
            try requireWeight(patchLabels, "patch_labels")
            try requireWeight(patchColors, "patch_colors")
        }
    }
}

/// Throws unless `w` is a loss weight in 0...1e6.
func requireWeight(_ w: Double, _ key: String, max: Double = 1e6) throws {
    try require((0...max).contains(w), key, "must be in 0.0...\(max), got \(w)")
}
