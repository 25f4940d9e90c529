import CHDF5
import Foundation
import ReverieCore

extension Checkpoint {
    /// Reads a checkpoint written by `write(to:dtype:)`, or by any tool that follows the same layout (h5py).
    ///
    /// Every floating dataset is read as a Float32 tensor (float16, bfloat16 and float64 are converted); integer
    /// datasets under `/optimizer` and `/state` go to `integers` exactly. A weight stored as integers, or holding NaN
    /// or infinite values, is refused naming the tensor (`allowNonFinite` reads such values, for inspection).
    ///
    /// - Parameters:
    ///   - url: the HDF5 file.
    ///   - sections: which sections to read; the others come back empty.
    ///   - prefix: if given, only keys equal to it or below it (`decoder` reads `decoder.…`) are read. Keys keep
    ///     their full names.
    ///   - allowNonFinite: read NaN or infinite weights instead of refusing them (for inspecting a damaged file).
    /// - Throws: `CheckpointError` naming the file (and the key) when the file is missing, not HDF5, truncated, not
    ///   a Reverie checkpoint, or holds a dataset that cannot be read.
    public static func read(
        from url: URL, sections: Set<CheckpointSection> = CheckpointSection.all, prefix: String? = nil,
        allowNonFinite: Bool = false
    ) throws -> Checkpoint {
        try CheckpointFile.withOpenCheckpoint(url) { file, path in
            var checkpoint = Checkpoint(attributes: try userAttributes(of: file))
            for section in CheckpointSection.allCases where sections.contains(section) {
                try readSection(
                    section, prefix: prefix, of: file, path: path, allowNonFinite: allowNonFinite, into: &checkpoint)
            }
            return checkpoint
        }
    }

    /// Reads only the root attributes (without `format` and `format_version`, which it checks). Cheap even for a
    /// large checkpoint: no tensor data is read.
    public static func readAttributes(from url: URL) throws -> [String: CheckpointAttribute] {
        try CheckpointFile.withOpenCheckpoint(url) { file, _ in try userAttributes(of: file) }
    }

    /// Reads one tensor.
    ///
    /// - Throws: `CheckpointError.missingTensor` if there is no such dataset, `.shapeMismatch` if `expectedShape`
    ///   is given and differs.
    public static func readTensor(
        _ key: String, section: CheckpointSection = .model, from url: URL, expectedShape: [Int]? = nil
    ) throws -> Tensor {
        let fullKey = "\(section.rawValue).\(key)"
        return try CheckpointFile.withOpenCheckpoint(url) { file, path in
            guard CheckpointKeys.problem(with: key) == nil,
                case .dataset(let dataset)? = try file.child(at: CheckpointKeys.components(of: fullKey))
            else { throw CheckpointError.missingTensor(path: path, key: fullKey) }
            let tensor = try readFloatTensor(dataset, fullKey: fullKey, path: path)
            if let expectedShape, expectedShape != tensor.shape {
                throw CheckpointError.shapeMismatch(
                    path: path, key: fullKey, expected: expectedShape, found: tensor.shape)
            }
            return tensor
        }
    }

    /// Root attributes Reverie can represent, less the reserved ones.
    static func userAttributes(of file: HDF5File) throws -> [String: CheckpointAttribute] {
        try rootAttributes(of: file).filter { !reservedAttributeNames.contains($0.key) }
    }

    /// Every root attribute Reverie can represent (scalar strings, integers, floats); others are skipped.
    static func rootAttributes(of file: HDF5File) throws -> [String: CheckpointAttribute] {
        var attributes: [String: CheckpointAttribute] = [:]
        for name in try file.attributeNames() {
            attributes[name] = try file.readAttribute(name)
        }
        return attributes
    }

    private static func readSection(
        _ section: CheckpointSection, prefix: String?, of file: HDF5File, path: String, allowNonFinite: Bool,
        into checkpoint: inout Checkpoint
    ) throws {
        var start = [section.rawValue]
        if let prefix {
            // A prefix that no key could have selects nothing.
            guard CheckpointKeys.problem(with: prefix) == nil else { return }
            start += CheckpointKeys.components(of: prefix)
        }
        let keepsIntegers = section != .model
        func add(_ components: [String], _ dataset: HDF5Dataset) throws {
            let key = components.dropFirst().joined(separator: ".")
            let fullKey = components.joined(separator: ".")
            let description = try describe(dataset, fullKey: fullKey, path: path)
            if keepsIntegers && description.typeClass == H5T_INTEGER {
                guard checkpoint.integers[fullKey] == nil else {
                    throw CheckpointError.duplicateKey(path: path, key: fullKey)
                }
                checkpoint.integers[fullKey] = try readIntegers(dataset, description, fullKey: fullKey, path: path)
            } else {
                guard checkpoint[section][key] == nil else {
                    throw CheckpointError.duplicateKey(path: path, key: fullKey)
                }
                checkpoint[section][key] = try readFloatTensor(
                    dataset, description, fullKey: fullKey, path: path, allowNonFinite: allowNonFinite)
            }
        }
        switch try file.child(at: start) {
        case .group(let group)?: try group.forEachDataset(prefix: start, add)
        case .dataset(let dataset)? where start.count > 1: try add(start, dataset)
        case .dataset?, .other?, nil: return
        }
    }

    private static func describe(_ dataset: HDF5Dataset, fullKey: String, path: String) throws -> DatasetDescription {
        try reportingKey(fullKey, path: path) { try dataset.describe() }
    }

    static func readFloatTensor(
        _ dataset: HDF5Dataset, _ known: DatasetDescription? = nil, fullKey: String, path: String,
        allowNonFinite: Bool = false
    ) throws -> Tensor {
        let description = try known ?? describe(dataset, fullKey: fullKey, path: path)
        // Integers are not weights: bytes of a float reinterpreted as int32 would read back as huge numbers.
        guard description.typeClass == H5T_FLOAT else {
            throw CheckpointError.unsupportedDataset(path: path, key: fullKey, dtype: description.dtype)
        }
        guard description.fitsInMemory(bytesPerElement: MemoryLayout<Float>.size) else {
            throw CheckpointError.tensorTooLarge(path: path, key: fullKey, shape: description.shape)
        }
        let tensor = try reportingKey(fullKey, path: path) { try dataset.readTensor(description) }
        if !allowNonFinite {
            var bad = 0, first = -1
            for (i, v) in tensor.buffer.enumerated() where !v.isFinite {
                if first < 0 { first = i }
                bad += 1
            }
            if bad > 0 { throw CheckpointError.nonFinite(path: path, key: fullKey, count: bad, index: first) }
        }
        return tensor
    }

    private static func readIntegers(
        _ dataset: HDF5Dataset, _ description: DatasetDescription, fullKey: String, path: String
    ) throws -> [Int64] {
        guard let count = description.elementCount,
            description.fitsInMemory(bytesPerElement: MemoryLayout<Int64>.size)
        else { throw CheckpointError.tensorTooLarge(path: path, key: fullKey, shape: description.shape) }
        return try reportingKey(fullKey, path: path) { try dataset.readIntegers(count: count) }
    }

    /// Runs `body`, turning an HDF5 failure into a `CheckpointError` that names the file and the key.
    private static func reportingKey<T>(_ fullKey: String, path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as HDF5Error {
            throw CheckpointError.hdf5(
                path: path, operation: "reading '\(fullKey)': \(failure.operation)", detail: failure.detail)
        }
    }
}
