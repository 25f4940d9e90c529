import ReverieCore

/// Errors raised by the diffusion target on input a user can supply: scheduler and model configurations,
/// timesteps, condition tensors.
public enum DiffusionError: Error, CustomStringConvertible, Equatable {
    /// A scheduler, sampler or model was configured with inconsistent values.
    case invalidConfiguration(component: String, detail: String)
    /// A timestep or step index outside the schedule.
    case timestepOutOfRange(component: String, value: Int, count: Int)

    public var description: String {
        switch self {
        case let .invalidConfiguration(component, detail):
            return "\(component): invalid configuration: \(detail)"
        case let .timestepOutOfRange(component, value, count):
            return "\(component): timestep or step index \(value) is outside 0..<\(count)"
        }
    }
}
