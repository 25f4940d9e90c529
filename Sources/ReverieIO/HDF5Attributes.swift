import CHDF5
import Foundation

// Scalar attributes: strings (fixed- or variable-length), integers and floats. That is what Reverie writes, and what
// h5py writes for a Python `str`, `int` or `float`.

extension HDF5Object {
    /// Names of this object's attributes, in HDF5's name order.
    func attributeNames() throws -> [String] {
        let count = reverie_attribute_count(id)
        guard count >= 0 else { throw HDF5Error("list attributes") }
        return try (0..<count).map { index in
            let n = hsize_t(index)
            let p = reverie_H5P_DEFAULT()
            let length = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, n, nil, 0, p)
            guard length >= 0 else { throw HDF5Error("read attribute name") }
            var name = [CChar](repeating: 0, count: length + 1)
            guard H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, n, &name, name.count, p) >= 0 else {
                throw HDF5Error("read attribute name")
            }
            return decodeCString(name)
        }
    }

    func hasAttribute(_ name: String) throws -> Bool {
        try h5check(H5Aexists(id, name), "look up attribute '\(name)'") > 0
    }

    /// Reads the attribute `name`. Returns nil for an attribute Reverie cannot represent (an array of several
    /// values, an enum, a compound, …); throws if it exists but cannot be read.
    func readAttribute(_ name: String) throws -> CheckpointAttribute? {
        let attribute = HDF5Attribute(
            owning: try h5id(H5Aopen(id, name, reverie_H5P_DEFAULT()), "open attribute '\(name)'"))
        let space = try attribute.space()
        guard H5Sget_simple_extent_npoints(space.id) == 1 else { return nil }
        let type = try attribute.storedType()
        switch type.typeClass {
        case H5T_STRING:
            return .string(try readString(attribute, storedType: type, name: name))
        case H5T_INTEGER:
            var value: Int64 = 0
            try h5check(H5Aread(attribute.id, reverie_H5T_NATIVE_INT64(), &value), "read attribute '\(name)'")
            return .int(value)
        case H5T_FLOAT:
            var value: Double = 0
            try h5check(H5Aread(attribute.id, reverie_H5T_NATIVE_DOUBLE(), &value), "read attribute '\(name)'")
            return .double(value)
        default:
            return nil
        }
    }

    /// Creates (or replaces) a scalar attribute. Strings are stored fixed-length, NUL-terminated, UTF-8.
    func writeAttribute(_ name: String, _ value: CheckpointAttribute) throws {
        if try hasAttribute(name) {
            try h5check(H5Adelete(id, name), "replace attribute '\(name)'")
        }
        let space = try HDF5Dataspace(shape: [])
        switch value {
        case .string(let text):
            let bytes = Array(text.utf8) + [0]
            let type = try HDF5Datatype.copy(of: reverie_H5T_C_S1())
            try h5check(H5Tset_size(type.id, bytes.count), "size string type")
            try h5check(H5Tset_strpad(type.id, H5T_STR_NULLTERM), "set string padding")
            try h5check(H5Tset_cset(type.id, H5T_CSET_UTF8), "set string encoding")
            let attribute = try createAttribute(name, type: type.id, space: space)
            try h5check(H5Awrite(attribute.id, type.id, bytes), "write attribute '\(name)'")
        case .int(var number):
            let attribute = try createAttribute(name, type: reverie_H5T_STD_I64LE(), space: space)
            try h5check(H5Awrite(attribute.id, reverie_H5T_NATIVE_INT64(), &number), "write attribute '\(name)'")
        case .double(var number):
            let attribute = try createAttribute(name, type: reverie_H5T_IEEE_F64LE(), space: space)
            try h5check(H5Awrite(attribute.id, reverie_H5T_NATIVE_DOUBLE(), &number), "write attribute '\(name)'")
        }
    }

    private func createAttribute(_ name: String, type: hid_t, space: HDF5Dataspace) throws -> HDF5Attribute {
        let p = reverie_H5P_DEFAULT()
        return HDF5Attribute(owning: try h5id(H5Acreate2(id, name, type, space.id, p, p), "create attribute '\(name)'"))
    }

    /// Reads a one-element string attribute, variable-length (h5py's default) or fixed-length (Reverie's).
    private func readString(_ attribute: HDF5Attribute, storedType: HDF5Datatype, name: String) throws -> String {
        let memoryType = try HDF5Datatype.copy(of: reverie_H5T_C_S1())
        try h5check(H5Tset_cset(memoryType.id, H5Tget_cset(storedType.id)), "set string encoding")
        if try h5check(H5Tis_variable_str(storedType.id), "inspect string type") > 0 {
            try h5check(H5Tset_size(memoryType.id, reverie_H5T_VARIABLE()), "size string type")
            var pointer: UnsafeMutablePointer<CChar>?
            try h5check(H5Aread(attribute.id, memoryType.id, &pointer), "read attribute '\(name)'")
            guard let pointer else { return "" }
            defer { H5free_memory(pointer) }
            return decodeCString(UnsafeBufferPointer(start: pointer, count: strlen(pointer)))
        }
        let size = storedType.size
        guard size > 0 else { throw HDF5Error("attribute '\(name)' has a zero-size string type") }
        try h5check(H5Tset_size(memoryType.id, size), "size string type")
        try h5check(H5Tset_strpad(memoryType.id, H5T_STR_NULLPAD), "set string padding")
        var bytes = [CChar](repeating: 0, count: size)
        try h5check(H5Aread(attribute.id, memoryType.id, &bytes), "read attribute '\(name)'")
        let text = decodeCString(bytes)
        // Fortran-style space padding is not part of the value.
        if H5Tget_strpad(storedType.id) == H5T_STR_SPACEPAD {
            return String(text.reversed().drop { $0 == " " }.reversed())
        }
        return text
    }
}
