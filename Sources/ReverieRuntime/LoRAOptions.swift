import ReverieCore
import ReverieNN

/// `lora: {rank: 8, alpha: 16, targets: [q_proj, v_proj]}` in a part: LoRA adapters on the linear layers named
/// `targets` (the last component of their keys), trained while the part's own weights stay frozen, stored as
/// `….lora_A.weight` / `….lora_B.weight` beside them and merged on export.
public struct LoRAOptions: Codable, Sendable, Equatable, SelfChecking {
    public var rank = 8
    public var alpha: Float = 16
    public var targets = ["q_proj", "v_proj"]
    /// PEFT's `lora_dropout`; only 0 is implemented (a step must stay a pure function of the data and the seed).
    public var dropout: Float = 0

    enum CodingKeys: String, CodingKey {
        case rank, alpha, targets, dropout
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try c.update(&rank, .rank)
        try c.update(&alpha, .alpha)
        try c.update(&targets, .targets)
        try c.update(&dropout, .dropout)
    }

    public func validate() throws {
        try require(rank, in: 1...4096, "rank")
        try require(alpha > 0 && alpha.isFinite, "alpha", "must be positive, is \(alpha)")
        try require(!targets.isEmpty, "targets", "names no layer")
        try require(dropout == 0, "dropout", "\(dropout) is not implemented (only 0)")
    }

    /// Attaches adapters to every `Linear` of `module` whose key ends in a target; returns their keys.
    /// - Throws: `ConfigurationError` at `targets` naming a target no layer has, with the layer names there are.
    @discardableResult
    public func attach(to module: Module, rng: inout RNG) throws -> [String] {
        let linears = module.namedModules().compactMap { key, m in (m as? Linear).map { (key, $0) } }
        var attached: [String] = []
        for target in targets {
            let matching = linears.filter { $0.0 == target || $0.0.hasSuffix("." + target) }
            guard !matching.isEmpty else {
                let names = Set(linears.map { $0.0.split(separator: ".").last.map(String.init) ?? $0.0 }).sorted()
                throw ConfigurationError(key: "targets", "no '\(target)' layer; the linear layers are \(names)")
            }
            for (key, linear) in matching {
                try linear.attachAdapter(rank: rank, alpha: alpha, rng: &rng)
                attached.append(key)
            }
        }
        return attached
    }
}
