import ReverieCore

/// Pointwise activations, with raw values equal to Hugging Face's `hidden_act` strings so a config maps directly.
public enum Activation: String, Sendable, Codable, CaseIterable {
    /// Exact GELU, x·Φ(x).
    case gelu = "gelu"
    /// GELU with the tanh approximation (SigLIP, GPT-2's `gelu_new`).
    case geluTanh = "gelu_pytorch_tanh"
    /// x·σ(x) (Llama).
    case silu = "silu"
    case relu = "relu"
    /// x·σ(1.702·x) (CLIP).
    case quickGelu = "quick_gelu"
    /// x·tanh(softplus(x)) (a diffusers `act_fn`).
    case mish = "mish"

    /// Accepts the Hugging Face aliases too (`gelu_new`, `swish`); nil for an unknown name.
    public init?(huggingFaceName name: String) {
        switch name {
        case "gelu_new", "gelu_pytorch_tanh": self = .geluTanh
        case "swish", "silu": self = .silu
        default: self.init(rawValue: name)
        }
    }

    /// x → activation(x), same shape.
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch self {
        case .gelu: return x.gelu()
        case .geluTanh: return x.geluTanh()
        case .silu: return x.silu()
        case .relu: return x.relu()
        case .quickGelu: return try x * (x * 1.702).sigmoid()
        case .mish: return try x * x.softplus().tanh()
        }
    }
}
