import ReverieCore

/// diffusers' activations by their `act_fn` / `timestep_post_act` names (`get_activation`).
public enum Activation: String, Codable, Sendable, CaseIterable {
    case silu, swish, gelu, relu, mish

    /// Reads a config value; an unknown name is an error naming `key`.
    init(name: String, key: String) throws {
        guard let a = Activation(rawValue: name) else {
            throw DiffusionError.invalidConfiguration(
                component: key,
                detail: "'\(name)' is not an activation Reverie implements (\(Self.allCases.map(\.rawValue)))")
        }
        self = a
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch self {
        case .silu, .swish: return x.silu()
        case .gelu: return x.gelu()
        case .relu: return x.relu()
        case .mish: return try x * x.softplus().tanh()
        }
    }
}

/// How a `ResnetBlock2D` computes: its activation and the divisor of its output (`output_scale_factor`; the
/// UNet's `resnet_out_scale_factor`, its mid block's `mid_block_scale_factor`).
public struct ResnetStyle: Sendable, Equatable {
    public var activation = Activation.silu
    public var outputScale: Float = 1

    public init(activation: Activation = .silu, outputScale: Float = 1) {
        (self.activation, self.outputScale) = (activation, outputScale)
    }
}
