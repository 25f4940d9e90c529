import ReverieCore
import ReverieNN

/// A diffusers `act_fn` / `timestep_post_act` value as an `Activation` (its `get_activation` names: silu, swish,
/// gelu, relu, mish); another name is an error naming `key`.
func diffusersActivation(_ name: String, key: String) throws -> Activation {
    guard ["silu", "swish", "gelu", "relu", "mish"].contains(name), let a = Activation(huggingFaceName: name) else {
        throw DiffusionError.invalidConfiguration(
            component: key, detail: "'\(name)' is not an activation Reverie implements (silu, swish, gelu, relu, mish)")
    }
    return a
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
