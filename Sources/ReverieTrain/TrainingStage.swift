import Foundation
import ReverieCore
import ReverieNN

/// One micro-batch's loss: the differentiable total and its named terms as numbers (for metrics).
public struct StageLoss {
    public var total: Tensor
    public var terms: [(String, Float)]
}

/// What the trainer needs from a stage: the whole model (checkpointed), a loss on the data items at given
/// indices, and an evaluation that returns named scores and may write a sample sheet.
///
/// Data items are a pure function of their index (ShapesWorld), so the data position of a run is one integer.
public protocol TrainingStage: AnyObject {
    var kind: StageKind { get }
    var model: Module { get }
    /// What the final checkpoint stores: `model` without what only training needs (e.g. the mllm stage's shape
    /// probe), so inference commands load it strictly. `last.h5` stores all of `model` for an exact resume.
    var exportedModel: Module { get }
    /// Every part's resolved configuration (stored as the checkpoint's `model_config`).
    var parts: ModelParts { get }
    func loss(indices: [Int], rng: inout RNG) throws -> StageLoss
    /// The data indices of each of `parts` micro-batches of one step over `indices`, `indices.count / parts` each.
    /// By default consecutive runs; a stage whose items differ in cost may even out the micro-batches that run side
    /// by side (the step waits for the slowest).
    func partition(_ indices: Range<Int>, parts: Int) -> [[Int]]
    /// Scores on `count` items of a world seeded `seed`; writes `sheet` (a PNG) when the stage draws images.
    func evaluate(count: Int, seed: UInt64, sheet: URL?) throws -> [(String, Double)]
    /// Called once before the final checkpoint (a stage may record measured configuration, e.g. a latent scale).
    func finish() throws
}

extension TrainingStage {
    public var exportedModel: Module { model }
}

/// The JSON stored as a checkpoint's `model_config`: the stage that wrote it and every part's configuration.
public struct ModelConfigRecord: Codable, Sendable, Equatable {
    public var format = "reverie-model"
    public var stage: StageKind
    public var parts: ModelParts

    public init(stage: StageKind, parts: ModelParts) {
        (self.stage, self.parts) = (stage, parts)
    }

    /// Every part at its defaults (the base that stored configurations are laid over).
    static var defaultParts: ModelConfigRecord {
        var p = ModelParts()
        (p.vision, p.text, p.vae, p.unet) = (VisionPart(), TextPart(), VAEPart(), UNetPart())
        (p.projector, p.llm, p.output) = (ProjectorPart(), LLMPart(), OutputPart())
        return ModelConfigRecord(stage: .mllm, parts: p)
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    /// Decodes a stored configuration; options added to a part after the checkpoint was written take their
    /// defaults (each stored part is laid over a default part before decoding).
    public static func decode(_ json: String, file: String) throws -> ModelConfigRecord {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        do {
            guard var top = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                  let stored = top["parts"] as? [String: Any] else {
                throw RecipeError(file: file, line: nil, key: "model_config", message: "not a JSON object with parts")
            }
            let defaults = try JSONSerialization.jsonObject(with: Data(ModelConfigRecord.defaultParts.json().utf8))
                as? [String: Any] ?? [:]
            let defaultParts = defaults["parts"] as? [String: Any] ?? [:]
            var merged: [String: Any] = [:]
            for (name, value) in stored {
                guard var part = value as? [String: Any] else { continue }
                for (k, v) in defaultParts[name] as? [String: Any] ?? [:] where part[k] == nil { part[k] = v }
                merged[name] = part
            }
            top["parts"] = merged
            return try d.decode(ModelConfigRecord.self, from: JSONSerialization.data(withJSONObject: top))
        } catch {
            throw RecipeError(file: file, line: nil, key: "model_config",
                              message: "not a Reverie model configuration (\(error))")
        }
    }
}

extension TrainingStage {
    public func finish() throws {}

    public func partition(_ indices: Range<Int>, parts: Int) -> [[Int]] {
        let size = indices.count / parts
        return (0..<parts).map { k in Array(indices.dropFirst(k * size).prefix(size)) }
    }
}
