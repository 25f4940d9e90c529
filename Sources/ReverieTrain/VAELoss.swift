import ReverieCore
import ReverieDiffusion

extension VAEStage {
    /// The vae stage's `loss:`: reconstruction + KL.
    public struct Loss: StageLossConfig, Equatable {
        public var kl = 1e-6
        /// `l1` or `l2` pixel loss.
        public var reconstruction = ReconstructionLoss.l2

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            try c.update(&kl, .kl)
            try c.update(&reconstruction, .reconstruction)
        }

        public func validate() throws { try requireWeight(kl, "kl") }
    }
}
