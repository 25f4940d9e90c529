import CHDF5
import Foundation
import ReverieCore

/// The shape and stored type of a dataset, read without reading its data.
struct DatasetDescription {
    let shape: [Int]
    let typeClass: H5T_class_t
    /// numpy's name for the stored type: `float32`, `float16`, `bfloat16`, `int64`, `string`, …
    let dtype: String

    /// Whether HDF5 can convert the data to Float32 (any float or integer type).
    var isNumeric: Bool { typeClass == H5T_FLOAT || typeClass == H5T_INTEGER }

    /// The number of elements, or nil if it overflows an `Int` (a corrupt extent).
    var elementCount: Int? {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// Whether `bytesPerElement × elementCount` fits in this machine's memory. A damaged or hostile file can declare
    /// any extent; refusing it here keeps a bad file from becoming a failed allocation.
    func fitsInMemory(bytesPerElement: Int) -> Bool {
        guard let count = elementCount else { return false }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: bytesPerElement)
        return !overflow && UInt64(bytes) <= ProcessInfo.processInfo.physicalMemory
    }
}

/// Deepest group nesting Reverie follows. Real keys are a dozen levels deep; the limit stops hard-link cycles.
let maximumGroupNesting = 64

extension HDF5Dataset {
    func describe() throws -> DatasetDescription {
        let type = try storedType()
        return DatasetDescription(shape: try space().shape(), typeClass: type.typeClass, dtype: dtypeName(of: type))
    }

    /// Reads the whole dataset as a Float32 tensor of `description.shape`; HDF5 converts from the stored type
    /// (float16, bfloat16, float64 and integers widen or round to the nearest float).
    func readTensor(_ description: DatasetDescription) throws -> Tensor {
        let tensor = Tensor(uninitialized: description.shape)
        if tensor.count > 0 { try read(into: tensor.pointer, memoryType: reverie_H5T_NATIVE_FLOAT()) }
        return tensor
    }

    /// Reads the whole dataset, flattened row-major, as 64-bit integers.
    func readIntegers(count: Int) throws -> [Int64] {
        var values = [Int64](repeating: 0, count: count)
        try values.withUnsafeMutableBytes { bytes in
            guard let base = bytes.baseAddress, count > 0 else { return }
            try read(into: base, memoryType: reverie_H5T_NATIVE_INT64())
        }
        return values
    }
}

extension HDF5Location {
    /// Calls `body` for every dataset below this location, depth-first with names in natural order, passing the
    /// dataset's path components (starting with `prefix`). Follows hard links only; a soft or external link could
    /// point outside the section or the file, or form a cycle.
    func forEachDataset(
        prefix: [String] = [], depth: Int = 0, _ body: ([String], HDF5Dataset) throws -> Void
    ) throws {
        guard depth < maximumGroupNesting else {
            let path = prefix.joined(separator: "/")
            throw HDF5Error("groups nest deeper than \(maximumGroupNesting) levels at '\(path)' (a cycle of links?)")
        }
        for name in try linkNames().sorted(by: naturalKeyOrder) where try isHardLink(name) {
            switch try openChild(name) {
            case .group(let group): try group.forEachDataset(prefix: prefix + [name], depth: depth + 1, body)
            case .dataset(let dataset): try body(prefix + [name], dataset)
            case .other: continue
            }
        }
    }

    /// Follows `components` from this location. Returns nil if a component is missing, is not a hard link, or names a
    /// dataset before the last component.
    func child(at components: [String]) throws -> HDF5Child? {
        var location: HDF5Location = self
        for (index, component) in components.enumerated() {
            guard try location.hasLink(component), try location.isHardLink(component) else { return nil }
            let child = try location.openChild(component)
            if index == components.count - 1 { return child }
            guard case .group(let group) = child else { return nil }
            location = group
        }
        return nil
    }
}

/// numpy's name for an HDF5 type, so `inspect` reads the same as h5py: IEEE half is `float16`, an 8-bit-exponent
/// 16-bit float is `bfloat16`.
func dtypeName(of type: HDF5Datatype) -> String {
    let bits = type.size * 8
    switch type.typeClass {
    case H5T_FLOAT:
        var signPosition = 0, exponentPosition = 0, exponentSize = 0, mantissaPosition = 0, mantissaSize = 0
        H5Tget_fields(
            type.id, &signPosition, &exponentPosition, &exponentSize, &mantissaPosition, &mantissaSize)
        if type.size == 2 && exponentSize == 8 { return "bfloat16" }
        return "float\(bits)"
    case H5T_INTEGER:
        return H5Tget_sign(type.id) == H5T_SGN_NONE ? "uint\(bits)" : "int\(bits)"
    case H5T_STRING: return "string"
    case H5T_ENUM: return "enum"
    case H5T_COMPOUND: return "compound"
    case H5T_ARRAY: return "array"
    case H5T_VLEN: return "vlen"
    case H5T_OPAQUE: return "opaque"
    case H5T_REFERENCE: return "reference"
    case H5T_BITFIELD: return "bitfield"
    default: return "unknown"
    }
}
