import Foundation
import ReverieCore
import ReverieIO
import XCTest

/// A fresh directory under the system temporary directory, removed on `remove()` or when released.
final class ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("reverie-cli-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(at: url) }

    deinit { remove() }
}

/// A tensor of `shape` with distinct values.
func rampTensor(_ shape: [Int]) throws -> Tensor {
    let count = shape.reduce(1, *)
    return try Tensor(shape: shape, data: (0..<count).map { Float($0) * 0.25 - 1 })
}

/// The checkpoint the `inspect` tests list: a small model, AdamW moments for two of its tensors, an integer step
/// count, and the three documented root attributes (docs/DESIGN.md §4).
enum SampleCheckpoint {
    static let modelConfig = #"{"dim":4,"layers":2,"vocab":12}"#
    static let recipe = """
        model:
          llm: {type: llama, dim: 4, layers: 2}
        optim:
          lr: 0.0003
        seed: 7

        """
    static let step: Int64 = 1200

    /// Full key → shape of every tensor, in the order `inspect` lists them (natural order: 2 before 10).
    static let tensorShapes: KeyValuePairs<String, [Int]> = [
        "model.embed.weight": [12, 4],
        "model.layers.2.attn.q_proj.weight": [4, 4],
        "model.layers.10.norm.weight": [4],
        "model.lm_head.weight": [12, 4],
        "optimizer.embed.weight.exp_avg": [12, 4],
        "optimizer.embed.weight.exp_avg_sq": [12, 4],
    ]
    static let stepKey = "optimizer.step"

    /// 48 + 16 + 4 + 48.
    static let modelParameterCount = 116

    static func make() throws -> Checkpoint {
        var model: [String: Tensor] = [:], optimizer: [String: Tensor] = [:]
        for (fullKey, shape) in tensorShapes {
            let tensor = try rampTensor(shape)
            if fullKey.hasPrefix("model.") {
                model[String(fullKey.dropFirst("model.".count))] = tensor
            } else {
                optimizer[String(fullKey.dropFirst("optimizer.".count))] = tensor
            }
        }
        var checkpoint = Checkpoint(model: model, optimizer: optimizer, integers: [stepKey: [step]])
        checkpoint.modelConfig = modelConfig
        checkpoint.recipe = recipe
        checkpoint.step = step
        return checkpoint
    }

    /// The stored type of each full key when the model is written as `dtype`: optimizer tensors stay float32.
    static func dtype(of fullKey: String, modelStorage dtype: StorageDType) -> String {
        fullKey.hasPrefix("model.") ? dtype.rawValue : "float32"
    }
}

/// One dataset line of `reverie inspect`'s text output.
struct ListedDataset: Equatable, CustomStringConvertible {
    let key: String
    let shape: [Int]
    let dtype: String

    var description: String { "\(key) \(shape) \(dtype)" }

    /// Parses `  <key>  [<d0>, <d1>]  <dtype>`, or returns nil for any other line.
    init?(line: String) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard line.hasPrefix("  "), fields.count >= 3,
            let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]"), open < close
        else { return nil }
        let inner = line[line.index(after: open)..<close]
        let dimensions = inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let shape = dimensions.compactMap { Int($0) }
        guard shape.count == dimensions.count else { return nil }
        key = String(line[..<open]).trimmingCharacters(in: .whitespaces)
        dtype = String(line[line.index(after: close)...]).trimmingCharacters(in: .whitespaces)
        self.shape = shape
        guard !key.contains(" "), !key.isEmpty, !dtype.contains(" "), !dtype.isEmpty else { return nil }
    }

    init(key: String, shape: [Int], dtype: String) {
        self.key = key
        self.shape = shape
        self.dtype = dtype
    }
}
