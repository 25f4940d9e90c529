import CHDF5
import Foundation
import ReverieCore

extension Checkpoint {
    /// Writes the checkpoint to `url` as HDF5, atomically.
    ///
    /// The file is first written to `<name>.tmp-<pid>` in the same directory, flushed to disk, then renamed over
    /// `url`. If anything fails, the temporary file is removed and an existing file at `url` is left untouched, so a
    /// crash or a full disk never leaves a half-written checkpoint behind. Keys and attributes are validated before
    /// anything is written.
    ///
    /// - Parameters:
    ///   - url: the file to write (replaced atomically).
    ///   - dtype: how the model's tensors are stored; optimizer and state tensors are always float32.
    public func write(to url: URL, dtype: StorageDType = .float32) throws {
        try write(to: url, dtype: dtype, beforeCommit: {})
    }

    /// `write(to:dtype:)` with a hook that runs after every dataset is written and before the temporary file is
    /// closed and renamed; tests make it throw to fail a write midway.
    func write(to url: URL, dtype: StorageDType, beforeCommit: () throws -> Void) throws {
        let path = url.path
        let plan = try plannedDatasets(path: path, dtype: dtype)
        let userAttributes = try validatedAttributes(path: path)

        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw CheckpointError.io(
                path: path, operation: "write", detail: "directory \(directory.path) does not exist")
        }
        let temporary = directory.appendingPathComponent("\(url.lastPathComponent).tmp-\(getpid())").path
        if let problem = OutputDestination.problem(url) {
            throw CheckpointError.io(path: path, operation: "write", detail: problem)
        }

        // The lock covers the rename too, so two writes of the same file from one process cannot share the
        // temporary file.
        try HDF5Library.withLock {
            do {
                let file = try HDF5File.create(at: temporary)
                try file.writeAttribute("format", .string(Checkpoint.formatName))
                try file.writeAttribute("format_version", .int(Checkpoint.formatVersion))
                for (name, value) in userAttributes {
                    try file.writeAttribute(name, value)
                }
                // /model always exists, even for an empty model; the training sections only when they hold data.
                _ = try file.createGroup(CheckpointSection.model.rawValue)
                let halfTypes = try HalfPrecisionTypes()
                for dataset in plan {
                    try write(dataset, to: file, halfTypes: halfTypes)
                }
                try beforeCommit()
                try file.close()
                try flushToDisk(temporary, reportingAs: path)
                guard rename(temporary, path) == 0 else {
                    throw CheckpointError.io(path: path, operation: "rename temporary file", detail: errnoMessage())
                }
            } catch {
                unlink(temporary)
                if let failure = error as? HDF5Error {
                    throw CheckpointError.hdf5(path: path, operation: failure.operation, detail: failure.detail)
                }
                throw error
            }
        }
    }

    /// Every dataset to write, in natural key order, after checking that each key can be stored.
    private func plannedDatasets(path: String, dtype: StorageDType) throws -> [PlannedDataset] {
        var plan: [PlannedDataset] = []
        for section in CheckpointSection.allCases {
            let storage = section == .model ? dtype : .float32
            for (key, tensor) in self[section] {
                if let problem = CheckpointKeys.problem(with: key) {
                    throw CheckpointError.invalidKey(path: path, key: "\(section.rawValue).\(key)", reason: problem)
                }
                plan.append(PlannedDataset(section: section, key: key, content: .tensor(tensor, storage)))
            }
        }
        for (fullKey, values) in integers {
            guard let (section, key) = CheckpointKeys.splitSection(of: fullKey), section != .model else {
                throw CheckpointError.invalidKey(
                    path: path, key: fullKey,
                    reason: "integer arrays belong to a section: start the key with 'optimizer.' or 'state.'")
            }
            if let problem = CheckpointKeys.problem(with: key) {
                throw CheckpointError.invalidKey(path: path, key: fullKey, reason: problem)
            }
            plan.append(PlannedDataset(section: section, key: key, content: .integers(values)))
        }

        var fullKeys = Set<String>()
        for dataset in plan where !fullKeys.insert(dataset.fullKey).inserted {
            throw CheckpointError.invalidKey(
                path: path, key: dataset.fullKey, reason: "given both as a tensor and as an integer array")
        }
        if let conflict = CheckpointKeys.groupConflict(in: fullKeys) {
            throw CheckpointError.invalidKey(
                path: path, key: conflict.dataset,
                reason: "it is also the group of '\(conflict.inner)'; a path cannot be both a dataset and a group")
        }
        return plan.sorted { naturalKeyOrder($0.fullKey, $1.fullKey) }
    }

    /// User attributes sorted by name, after checking names and values.
    private func validatedAttributes(path: String) throws -> [(String, CheckpointAttribute)] {
        for (name, value) in attributes {
            if Checkpoint.reservedAttributeNames.contains(name) {
                throw CheckpointError.invalidAttribute(
                    path: path, name: name, reason: "reserved; the writer sets it")
            }
            if name.isEmpty || name.contains("\0") {
                throw CheckpointError.invalidAttribute(
                    path: path, name: name, reason: "names must be non-empty, without NUL")
            }
            if case .string(let text) = value, text.contains("\0") {
                throw CheckpointError.invalidAttribute(
                    path: path, name: name, reason: "string values cannot contain NUL")
            }
        }
        return attributes.sorted { $0.key < $1.key }
    }

    private func write(_ planned: PlannedDataset, to file: HDF5File, halfTypes: HalfPrecisionTypes) throws {
        let path = CheckpointKeys.relativePath(section: planned.section, key: planned.key)
        switch planned.content {
        case let .tensor(tensor, storage):
            let space = try HDF5Dataspace(shape: tensor.shape)
            switch storage {
            case .float32:
                let dataset = try file.createDataset(path, type: reverie_H5T_IEEE_F32LE(), space: space)
                if tensor.count > 0 { try dataset.write(tensor.pointer, memoryType: reverie_H5T_NATIVE_FLOAT()) }
            case .float16, .bfloat16:
                let type = storage == .float16 ? halfTypes.float16 : halfTypes.bfloat16
                let narrow = storage == .float16 ? float16Bits : bfloat16Bits
                let bits = tensor.buffer.map(narrow)
                let dataset = try file.createDataset(path, type: type.id, space: space)
                // The buffer already holds the stored bit patterns, so memory and file types are the same.
                if tensor.count > 0 { try dataset.write(bits, memoryType: type.id) }
            }
        case let .integers(values):
            let space = try HDF5Dataspace(shape: [values.count])
            let dataset = try file.createDataset(path, type: reverie_H5T_STD_I64LE(), space: space)
            if !values.isEmpty { try dataset.write(values, memoryType: reverie_H5T_NATIVE_INT64()) }
        }
    }
}

/// One dataset to write.
private struct PlannedDataset {
    enum Content {
        case tensor(Tensor, StorageDType)
        case integers([Int64])
    }

    let section: CheckpointSection
    let key: String
    let content: Content

    var fullKey: String { "\(section.rawValue).\(key)" }
}

/// The two 16-bit float types, created once per write.
struct HalfPrecisionTypes {
    let float16: HDF5Datatype
    let bfloat16: HDF5Datatype

    init() throws {
        float16 = HDF5Datatype(owning: try h5id(reverie_create_float16_type(5, 10, 15), "create float16 type"))
        bfloat16 = HDF5Datatype(owning: try h5id(reverie_create_float16_type(8, 7, 127), "create bfloat16 type"))
    }
}

/// fsyncs a finished file so that the rename that follows cannot expose a file whose data is still in flight.
private func flushToDisk(_ file: String, reportingAs path: String) throws {
    let descriptor = open(file, O_RDONLY)
    guard descriptor >= 0 else {
        throw CheckpointError.io(path: path, operation: "reopen temporary file", detail: errnoMessage())
    }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 else {
        throw CheckpointError.io(path: path, operation: "flush to disk", detail: errnoMessage())
    }
}

func errnoMessage() -> String { String(cString: strerror(errno)) }
