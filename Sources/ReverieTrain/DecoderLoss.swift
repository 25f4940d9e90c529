import ReverieCore

extension DecoderStage {
    /// The decoder stage's `loss:`: the denoising loss and its options.
    public struct Loss: StageLossConfig, Equatable {
        /// Condition dropout for classifier-free guidance.
        public var conditionDropout = 0.1
        /// α of the latent pixels' weights 1 + α·dₚ/mean d: pixels far from the background weigh more (0 = plain mean).
        public var objectWeight = 0.0
        /// σ of the noise added to each item's conditions in training (relative to their RMS; 0 = none).
        public var conditionNoise = 0.0
        /// p of the timestep skew t = ⌊T·u^(1/p)⌋ towards the noisy end (1 = uniform).
        public var timestepPower = 1.0

        enum CodingKeys: String, CodingKey {
            case conditionDropout = "condition_dropout"
            case objectWeight = "object_weight"
            case
                conditionNoise = "condition_noise"
            case timestepPower = "timestep_power"
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            try c.update(&conditionDropout, .conditionDropout)
            try c.update(&objectWeight, .objectWeight)
            try c.update(&conditionNoise, .conditionNoise)
            try c.update(&timestepPower, .timestepPower)
        }

        public func validate() throws {
            try requireWeight(conditionDropout, "condition_dropout", max: 1)
            try requireWeight(objectWeight, "object_weight")
            try requireWeight(conditionNoise, "condition_noise", max: 10)
            try require(
                (0.1...10).contains(timestepPower), "timestep_power", "must be in 0.1...10.0, got \(timestepPower)")
        }
    }
}
