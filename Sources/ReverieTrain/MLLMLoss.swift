import ReverieCore
import ReverieMultimodal

extension MLLMStage {
    /// The mllm stage's `loss:`: cross-entropy on text + regression on conditions (+ optional terms).
    public struct Loss: StageLossConfig, Equatable {
        public var ce = 1.0, regression = 1.0
        /// The denoising loss through the decoder (DreamLLM / MetaQuery), and the share of its images that use the
        /// exact target conditions (`MultimodalLossConfig.diffusionExactShare`).
        public var diffusion = 0.0, diffusionExact = 0.0
        public var regressionKind = RegressionLossKind.mse
        /// β of `regression_kind: smooth_l1` (quadratic below β, linear above; small β is nearly L1).
        public var smoothL1Beta = 1.0
        /// Extra regression weight of condition tokens that differ from the image's background.
        public var objectWeight = 0.0
        /// The change head's binary cross-entropy (`ChangeMask`; needs `output.change_head`).
        public var change = 0.0
        /// The change shortfall (`changeShortfall`; needs `output.residual`).
        public var changeShortfall = 0.0
        /// The shape probe (`ShapeProbe`): a linear probe learns the shape under each patch from the target images'
        /// own conditions, and the predicted conditions must read as the same shapes to it (ShapesWorld scenes).
        public var shapeProbe = 0.0
        /// p of the denoising loss's timestep skew towards the noisy end (1 = uniform).
        public var timestepPower = 1.0

        enum CodingKeys: String, CodingKey {
            case ce, regression, diffusion
            case diffusionExact = "diffusion_exact"
            case regressionKind = "regression_kind"
            case
                smoothL1Beta = "smooth_l1_beta"
            case objectWeight = "object_weight"
            case change
            case
                changeShortfall = "change_shortfall"
            case shapeProbe = "shape_probe"
            case timestepPower = "timestep_power"
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            try c.update(&ce, .ce)
            try c.update(&regression, .regression)
            try c.update(&diffusion, .diffusion)
            try c.update(&diffusionExact, .diffusionExact)
            try c.update(&regressionKind, .regressionKind)
            try c.update(&smoothL1Beta, .smoothL1Beta)
            try c.update(&objectWeight, .objectWeight)
            try c.update(&change, .change)
            try c.update(&changeShortfall, .changeShortfall)
            try c.update(&shapeProbe, .shapeProbe)
            try c.update(&timestepPower, .timestepPower)
        }

        public func validate() throws {
            for (key, w) in [
                ("ce", ce), ("regression", regression), ("diffusion", diffusion),
                ("object_weight", objectWeight), ("change", change), ("change_shortfall", changeShortfall),
                ("shape_probe", shapeProbe),
            ] {
                try requireWeight(w, key)
            }
            try requireWeight(diffusionExact, "diffusion_exact", max: 1)
            try require(
                (1e-6...1e6).contains(smoothL1Beta), "smooth_l1_beta", "must be in 1e-06...1e6, got \(smoothL1Beta)")
            try require(
                (0.1...10).contains(timestepPower), "timestep_power", "must be in 0.1...10.0, got \(timestepPower)")
        }

        /// The loss configuration the multimodal model computes.
        var multimodal: MultimodalLossConfig {
            var c = MultimodalLossConfig(
                ceWeight: Float(ce), regressionWeight: Float(regression),
                regression: regressionKind, diffusionWeight: Float(diffusion),
                objectWeight: Float(objectWeight))
            (c.diffusionExactShare, c.diffusionTimestepPower) = (Float(diffusionExact), timestepPower)
            c.changeWeight = Float(change)
            c.smoothL1Beta = Float(smoothL1Beta)
            c.shortfallWeight = Float(changeShortfall)
            return c
        }
    }
}
