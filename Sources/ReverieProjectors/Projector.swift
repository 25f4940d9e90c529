import ReverieCore
import ReverieNN

/// Maps a vision encoder's patch features to the language model's visual tokens (DESIGN §1):
/// features [B, P, Dv] → tokens [B, Q, D]. Every kind is a `Module`, so it trains, freezes and saves like any other.
public protocol Projector: Module {
    /// The `type` a recipe names this kind by (`linear`, `mlp`, `qformer`, `resampler`, `pool`).
    static var kind: String { get }
    /// Width D of the produced tokens (the language model's hidden size).
    var outputDim: Int { get }
    /// Q, the number of tokens produced from P patches.
    func outputTokens(patches: Int) -> Int
    /// features [B, P, Dv] → [B, Q, D]
    func callAsFunction(_ features: Tensor) throws -> Tensor
}

/// One option value of a projector spec, as a recipe would give it.
public enum ProjectorOption: Sendable, Equatable {
    case int(Int)
    case double(Double)
    case string(String)
}

/// What a recipe says about a projector: its `type`, the widths it connects, and the kind's own options.
public struct ProjectorSpec: Sendable, Equatable {
    public var type: String
    /// Dv, the vision encoder's feature width.
    public var inputDim: Int
    /// D, the language model's hidden size.
    public var outputDim: Int
    /// P, patches per image (a square grid for `pool`).
    public var patches: Int
    /// Kind-specific options (`queries`, `depth`, …); a key the kind does not know is an error.
    public var options: [String: ProjectorOption]

    public init(type: String, inputDim: Int, outputDim: Int, patches: Int, options: [String: ProjectorOption] = [:]) {
        (self.type, self.inputDim, self.outputDim, self.patches, self.options) =
            (type, inputDim, outputDim, patches, options)
    }

    /// Reads kind-specific options, then `finish()` rejects any key that was never read.
    public struct Reader {
        let spec: ProjectorSpec
        private var used: Set<String> = []

        init(_ spec: ProjectorSpec) { self.spec = spec }

        /// A positive integer option, `defaultValue` when absent.
        public mutating func int(_ key: String, default defaultValue: Int) throws -> Int {
            used.insert(key)
            guard let value = spec.options[key] else { return defaultValue }
            guard case .int(let i) = value, i > 0 else {
                throw ProjectorError.invalidOption(type: spec.type, key: key, detail: "must be a positive integer")
            }
            return i
        }

        /// A number option.
        public mutating func double(_ key: String, default defaultValue: Double) throws -> Double {
            used.insert(key)
            switch spec.options[key] {
            case nil: return defaultValue
            case .int(let i)?: return Double(i)
            case .double(let d)?: return d
            case .string?:
                throw ProjectorError.invalidOption(type: spec.type, key: key, detail: "must be a number")
            }
        }

        /// A string option.
        public mutating func string(_ key: String, default defaultValue: String) throws -> String {
            used.insert(key)
            guard let value = spec.options[key] else { return defaultValue }
            guard case .string(let s) = value else {
                throw ProjectorError.invalidOption(type: spec.type, key: key, detail: "must be a string")
            }
            return s
        }

        /// Throws on the first (sorted) option no read asked for, naming the known ones.
        public func finish() throws {
            if let unknown = spec.options.keys.filter({ !used.contains($0) }).sorted().first {
                let known = used.sorted().joined(separator: ", ")
                throw ProjectorError.invalidOption(
                    type: spec.type, key: unknown, detail: "unknown option; known: \(known)")
            }
        }
    }

    /// A reader over `options`.
    public func reader() -> Reader { Reader(self) }
}

/// Why a projector could not be built.
public enum ProjectorError: Error, CustomStringConvertible, Equatable {
    case unknownType(String, known: [String])
    case invalidOption(type: String, key: String, detail: String)

    public var description: String {
        switch self {
        case let .unknownType(type, known):
            return "unknown projector type '\(type)'; known: \(known.joined(separator: ", "))"
        case let .invalidOption(type, key, detail):
            return "projector '\(type)': option '\(key)' \(detail)"
        }
    }
}
