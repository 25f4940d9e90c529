import Foundation

/// What `reverie inspect` shows of a checkpoint: its root attributes and every dataset, without reading tensor data.
public struct CheckpointListing: Equatable, Sendable {
    /// One dataset of the file.
    public struct Dataset: Equatable, Sendable {
        /// The dotted key including the section: `model.llm.layers.0.attn.q_proj.weight`.
        public var key: String
        /// The HDF5 path: `/model/llm/layers/0/attn/q_proj/weight`.
        public var path: String
        public var shape: [Int]
        /// numpy's name for the stored type: `float32`, `float16`, `bfloat16`, `int64`, …
        public var dtype: String
        /// Whether HDF5 verifies a Fletcher-32 checksum when it reads the data (every dataset with data that Reverie
        /// writes; not in files written before checksums, nor in scalars).
        public var checksummed: Bool

        public init(key: String, path: String, shape: [Int], dtype: String, checksummed: Bool = false) {
            self.key = key
            self.path = path
            self.shape = shape
            self.dtype = dtype
            self.checksummed = checksummed
        }

        /// The section the dataset belongs to, or nil for a dataset outside `/model`, `/optimizer` and `/state`.
        public var section: CheckpointSection? { CheckpointKeys.splitSection(of: key)?.section }

        /// The number of elements, saturating at `Int.max` for an extent that overflows.
        public var elementCount: Int {
            shape.reduce(1) { count, dimension in
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                return overflow ? Int.max : product
            }
        }
    }

    /// The checkpoint's file path.
    public var file: String
    /// All root attributes Reverie can represent, including `format` and `format_version`.
    public var attributes: [String: CheckpointAttribute]
    /// Every dataset in the file, in natural key order (`layers.2` before `layers.10`).
    public var datasets: [Dataset]

    public init(file: String, attributes: [String: CheckpointAttribute], datasets: [Dataset]) {
        self.file = file
        self.attributes = attributes
        self.datasets = datasets
    }

    /// The total number of elements of the datasets under `/model`: the model's parameter count.
    public var modelParameterCount: Int {
        datasets.filter { $0.section == .model }.reduce(0) { total, dataset in
            let (sum, overflow) = total.addingReportingOverflow(dataset.elementCount)
            return overflow ? Int.max : sum
        }
    }

    /// Attribute names in display order: `format`, `format_version`, then the rest alphabetically.
    public var attributeNamesInDisplayOrder: [String] {
        let reserved = ["format", "format_version"].filter { attributes[$0] != nil }
        return reserved + attributes.keys.filter { !Checkpoint.reservedAttributeNames.contains($0) }.sorted()
    }
}

extension Checkpoint {
    /// Lists a checkpoint's root attributes and every dataset in it (shape and stored type), reading no tensor data.
    ///
    /// - Throws: the same `CheckpointError`s as `read(from:)` for files that are missing, not HDF5, truncated or not
    ///   Reverie checkpoints.
    public static func inspect(_ url: URL) throws -> CheckpointListing {
        try CheckpointFile.withOpenCheckpoint(url) { file, path in
            var datasets: [CheckpointListing.Dataset] = []
            try file.forEachDataset { components, dataset in
                let key = components.joined(separator: ".")
                let description: DatasetDescription
                do {
                    description = try dataset.describe()
                } catch let failure as HDF5Error {
                    throw CheckpointError.hdf5(
                        path: path, operation: "reading '\(key)': \(failure.operation)", detail: failure.detail)
                }
                datasets.append(
                    .init(
                        key: key, path: "/" + components.joined(separator: "/"), shape: description.shape,
                        dtype: description.dtype, checksummed: dataset.hasChecksum))
            }
            return CheckpointListing(file: path, attributes: try rootAttributes(of: file), datasets: datasets)
        }
    }
}
