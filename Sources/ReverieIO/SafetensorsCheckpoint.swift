import Foundation
import ReverieCore

/// The weights of a Hugging Face checkpoint directory: either one `model.safetensors`, or shards listed by
/// `model.safetensors.index.json` (`{"weight_map": {"<tensor>": "<shard file>", …}}`).
///
/// Every file is opened (and its header validated) up front; tensors are read on demand.
public struct SafetensorsCheckpoint: Sendable {
    /// The directory the checkpoint was opened from.
    public let directory: URL
    /// The opened files, in shard order.
    public let files: [SafetensorsFile]
    /// The index file for a sharded checkpoint, else the single file: what errors about absent tensors name.
    public let source: URL
    private let fileOfTensor: [String: Int]

    /// Opens `directory`: the index if present, else the single file. `stem` is the weights' file name without
    /// extension: `model` for transformers, `diffusion_pytorch_model` for diffusers.
    public init(directory: URL, stem: String = "model") throws {
        let index = directory.appendingPathComponent("\(stem).safetensors.index.json")
        let single = directory.appendingPathComponent("\(stem).safetensors")
        if FileManager.default.fileExists(atPath: index.path) {
            try self.init(index: index)
        } else if FileManager.default.fileExists(atPath: single.path) {
            try self.init(files: [single])
        } else {
            throw SafetensorsError.noWeights(directory: directory.path)
        }
    }

    /// Opens the shards a `model.safetensors.index.json` lists, checking that each shard holds the tensors the index
    /// assigns to it.
    public init(index: URL) throws {
        let path = index.path
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(contentsOf: index))
        } catch {
            throw SafetensorsError.badIndex(path: path, detail: "not readable JSON (\(error.localizedDescription))")
        }
        guard let root = json as? [String: Any], let weightMap = root["weight_map"] as? [String: String] else {
            throw SafetensorsError.badIndex(path: path, detail: "no 'weight_map' object of tensor name → shard file")
        }
        let directory = index.deletingLastPathComponent()
        let shardNames = Array(Set(weightMap.values)).sorted(by: naturalKeyOrder)
        for shard in shardNames where shard.contains("/") || shard == ".." {
            throw SafetensorsError.badIndex(
                path: path, detail: "shard '\(shard)' is not a file name in \(directory.path)")
        }
        var files: [SafetensorsFile] = []
        for shard in shardNames {
            let url = directory.appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw SafetensorsError.badIndex(path: path, detail: "shard '\(shard)' does not exist")
            }
            files.append(try SafetensorsFile(url: url))
        }
        var fileOfTensor: [String: Int] = [:]
        for (tensor, shard) in weightMap {
            // shardNames contains every value of weightMap, so the index exists.
            let i = shardNames.firstIndex(of: shard) ?? 0
            guard files[i].entries[tensor] != nil else {
                throw SafetensorsError.missingTensor(path: files[i].url.path, tensor: tensor)
            }
            fileOfTensor[tensor] = i
        }
        (self.directory, self.files, self.fileOfTensor, source) = (directory, files, fileOfTensor, index)
    }

    /// A checkpoint made of the given files; a tensor name present in two of them is an error.
    public init(files urls: [URL]) throws {
        var files: [SafetensorsFile] = []
        var fileOfTensor: [String: Int] = [:]
        for (i, url) in urls.enumerated() {
            let file = try SafetensorsFile(url: url)
            for name in file.entries.keys {
                if let j = fileOfTensor[name] {
                    throw SafetensorsError.badHeader(
                        path: url.path, detail: "tensor '\(name)' is also in \(files[j].url.lastPathComponent)")
                }
                fileOfTensor[name] = i
            }
            files.append(file)
        }
        directory = urls.first?.deletingLastPathComponent() ?? URL(fileURLWithPath: ".")
        source = urls.first ?? directory
        (self.files, self.fileOfTensor) = (files, fileOfTensor)
    }

    /// All tensor names, in natural order.
    public var tensorNames: [String] { fileOfTensor.keys.sorted(by: naturalKeyOrder) }

    /// Whether the checkpoint holds `name`.
    public func contains(_ name: String) -> Bool { fileOfTensor[name] != nil }

    /// The stored shape of `name`, or nil.
    public func shape(of name: String) -> [Int]? {
        fileOfTensor[name].flatMap { files[$0].entries[name]?.shape }
    }

    /// The tensor `name` widened to Float32; with `shape`, a different stored shape is an error naming the file.
    public func tensor(_ name: String, shape: [Int]? = nil) throws -> Tensor {
        guard let i = fileOfTensor[name] else {
            throw SafetensorsError.missingTensor(path: source.path, tensor: name)
        }
        return try files[i].tensor(name, shape: shape)
    }

    /// Every tensor, widened to Float32.
    public func tensors() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for name in fileOfTensor.keys { out[name] = try tensor(name) }
        return out
    }
}
