/// Why a trained model cannot be loaded or run.
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    /// The model lacks a part the task needs.
    case missingPart(PartName, needed: String)
    /// A file that is not what the task needs (names the file and what is wrong).
    case badModel(file: String, detail: String)

    public var description: String {
        switch self {
        case let .missingPart(p, needed): return "the model has no '\(p.rawValue)' part (\(needed))"
        case let .badModel(file, detail): return "\(file): \(detail)"
        }
    }
}
