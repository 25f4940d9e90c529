import CHDF5

// HDF5 hands out plain integer identifiers that must each be closed exactly once. These final classes give every
// identifier one owner that closes it in `deinit`, so early exits and thrown errors cannot leak open objects (which
// would keep the file open after `H5Fclose`). Only identifiers the caller owns go into them, never predefined types
// such as `H5T_NATIVE_FLOAT`.

/// Anything that owns an HDF5 object identifier (file, group, dataset, attribute): attributes can hang off it.
protocol HDF5Object: AnyObject {
    var id: hid_t { get }
}

/// A file or a group: something that holds links to groups and datasets.
protocol HDF5Location: HDF5Object {}

/// An owned property list (file access, link creation, dataset creation, …).
final class HDF5PropertyList {
    let id: hid_t

    init(_ propertyClass: hid_t, _ purpose: String) throws {
        id = try h5id(H5Pcreate(propertyClass), "create \(purpose) property list")
    }

    deinit { H5Pclose(id) }
}

/// An owned datatype (a copy of a predefined type, a custom float, or a dataset's / attribute's stored type).
final class HDF5Datatype {
    let id: hid_t

    init(owning id: hid_t) { self.id = id }

    /// A modifiable copy of `source` (predefined or not).
    static func copy(of source: hid_t) throws -> HDF5Datatype {
        HDF5Datatype(owning: try h5id(H5Tcopy(source), "copy datatype"))
    }

    var typeClass: H5T_class_t { H5Tget_class(id) }
    var size: Int { H5Tget_size(id) }

    deinit { H5Tclose(id) }
}

/// An owned dataspace: the shape of a dataset or attribute.
final class HDF5Dataspace {
    let id: hid_t

    init(owning id: hid_t) { self.id = id }

    /// A simple dataspace of `shape`, or a scalar one for `[]` (a 0-d tensor).
    convenience init(shape: [Int]) throws {
        if shape.isEmpty {
            self.init(owning: try h5id(H5Screate(H5S_SCALAR), "create scalar dataspace"))
        } else {
            let dims = shape.map { hsize_t($0) }
            self.init(owning: try h5id(H5Screate_simple(Int32(dims.count), dims, nil), "create dataspace"))
        }
    }

    var kind: H5S_class_t { H5Sget_simple_extent_type(id) }

    /// The extent as a tensor shape: `[]` for a scalar dataspace. Throws for a null dataspace (no data) or
    /// extents that do not fit an `Int`.
    func shape() throws -> [Int] {
        switch kind {
        case H5S_SCALAR:
            return []
        case H5S_SIMPLE:
            let rank = try h5check(H5Sget_simple_extent_ndims(id), "read rank")
            var dims = [hsize_t](repeating: 0, count: Int(rank))
            try h5check(H5Sget_simple_extent_dims(id, &dims, nil), "read dimensions")
            return try dims.map { d in
                guard d <= hsize_t(Int.max) else { throw HDF5Error("dimension \(d) is too large") }
                return Int(d)
            }
        default:
            throw HDF5Error("dataspace holds no data (null dataspace)")
        }
    }

    deinit { H5Sclose(id) }
}

/// An owned, open HDF5 file.
final class HDF5File: HDF5Location {
    let id: hid_t
    private var isOpen = true

    private init(id: hid_t) { self.id = id }

    /// Creates (or truncates) the file at `path` for writing.
    ///
    /// The format is pinned to HDF5 1.8 objects: readable by every HDF5 tool since 1.8 (h5py, h5dump, MATLAB), and,
    /// unlike the 1.0 "earliest" format, able to hold attributes larger than 64 KiB (long recipes and configs).
    static func create(at path: String) throws -> HDF5File {
        let access = try HDF5PropertyList(reverie_H5P_FILE_ACCESS(), "file access")
        // HDF5 1.10's format: a dataset stored as one checksummed chunk needs no chunk index (1.8's format spends a
        // B-tree of kilobytes on each). Every HDF5 since 1.10 (2016) and h5py reads it.
        try h5check(H5Pset_libver_bounds(access.id, H5F_LIBVER_V110, H5F_LIBVER_V110), "set file format version")
        // Refuse to close while a group or dataset is still open instead of silently deferring the close: the caller
        // renames the file right after, and must not rename one that is not fully written.
        try h5check(H5Pset_fclose_degree(access.id, H5F_CLOSE_SEMI), "set file close degree")
        let id = try h5id(
            H5Fcreate(path, reverie_H5F_ACC_TRUNC(), reverie_H5P_DEFAULT(), access.id), "create HDF5 file")
        return HDF5File(id: id)
    }

    /// Opens an existing file read-only.
    static func openReadOnly(_ path: String) throws -> HDF5File {
        HDF5File(id: try h5id(H5Fopen(path, reverie_H5F_ACC_RDONLY(), reverie_H5P_DEFAULT()), "open HDF5 file"))
    }

    /// Flushes and closes the file, reporting failure (a full disk shows up here). Every group, dataset and attribute
    /// of the file must already be released: a file opened by `create(at:)` refuses to close otherwise.
    func close() throws {
        guard isOpen else { return }
        isOpen = false
        try h5check(H5Fclose(id), "close HDF5 file")
    }

    deinit { if isOpen { H5Fclose(id) } }
}

/// An owned, open group.
final class HDF5Group: HDF5Location {
    let id: hid_t

    init(owning id: hid_t) { self.id = id }

    deinit { H5Gclose(id) }
}

/// An owned, open dataset.
final class HDF5Dataset: HDF5Object {
    let id: hid_t

    init(owning id: hid_t) { self.id = id }

    func space() throws -> HDF5Dataspace {
        HDF5Dataspace(owning: try h5id(H5Dget_space(id), "read dataset shape"))
    }

    func storedType() throws -> HDF5Datatype {
        HDF5Datatype(owning: try h5id(H5Dget_type(id), "read dataset type"))
    }

    /// Writes the whole dataset from `buffer`, whose layout in memory is `memoryType`.
    func write(_ buffer: UnsafeRawPointer, memoryType: hid_t) throws {
        let all = reverie_H5S_ALL()
        try h5check(H5Dwrite(id, memoryType, all, all, reverie_H5P_DEFAULT(), buffer), "write dataset")
    }

    /// Reads the whole dataset into `buffer` as `memoryType`; HDF5 converts from the stored type.
    /// Whether the dataset is stored with the Fletcher-32 checksum filter.
    var hasChecksum: Bool {
        let creation = H5Dget_create_plist(id)
        guard creation >= 0 else { return false }
        defer { H5Pclose(creation) }
        var flags: UInt32 = 0, count = 0
        return H5Pget_filter_by_id2(creation, reverie_H5Z_FILTER_FLETCHER32(), &flags, &count, nil, 0, nil, nil) >= 0
    }

    func read(into buffer: UnsafeMutableRawPointer, memoryType: hid_t) throws {
        let all = reverie_H5S_ALL()
        try h5check(H5Dread(id, memoryType, all, all, reverie_H5P_DEFAULT(), buffer), "read dataset")
    }

    deinit { H5Dclose(id) }
}

/// An owned, open attribute.
final class HDF5Attribute {
    let id: hid_t

    init(owning id: hid_t) { self.id = id }

    func space() throws -> HDF5Dataspace {
        HDF5Dataspace(owning: try h5id(H5Aget_space(id), "read attribute shape"))
    }

    func storedType() throws -> HDF5Datatype {
        HDF5Datatype(owning: try h5id(H5Aget_type(id), "read attribute type"))
    }

    deinit { H5Aclose(id) }
}

/// What a link in a group leads to.
enum HDF5Child {
    case group(HDF5Group)
    case dataset(HDF5Dataset)
    /// A named datatype or another object Reverie does not read.
    case other
}

extension HDF5Location {
    /// Names of the links directly in this file's root group or this group, in HDF5's name order.
    func linkNames() throws -> [String] {
        let count = reverie_group_link_count(id)
        guard count >= 0 else { throw HDF5Error("list group members") }
        return try (0..<count).map { index in
            let n = hsize_t(index)
            let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, n, nil, 0, reverie_H5P_DEFAULT())
            guard length >= 0 else { throw HDF5Error("read member name") }
            var name = [CChar](repeating: 0, count: length + 1)
            let read = H5Lget_name_by_idx(
                id, ".", H5_INDEX_NAME, H5_ITER_INC, n, &name, name.count, reverie_H5P_DEFAULT())
            guard read >= 0 else { throw HDF5Error("read member name") }
            return decodeCString(name)
        }
    }

    /// Whether this location has a direct member called `name` (a single path component).
    func hasLink(_ name: String) throws -> Bool {
        try h5check(H5Lexists(id, name, reverie_H5P_DEFAULT()), "look up '\(name)'") > 0
    }

    /// Whether the member `name` is a hard link (soft and external links are not followed).
    func isHardLink(_ name: String) throws -> Bool {
        let result = reverie_link_is_hard(id, name)
        guard result >= 0 else { throw HDF5Error("read link '\(name)'") }
        return result == 1
    }

    /// Opens the member `name` as whatever kind of object it is.
    func openChild(_ name: String) throws -> HDF5Child {
        let object = try h5id(H5Oopen(id, name, reverie_H5P_DEFAULT()), "open '\(name)'")
        switch H5Iget_type(object) {
        case H5I_GROUP: return .group(HDF5Group(owning: object))
        case H5I_DATASET: return .dataset(HDF5Dataset(owning: object))
        default:
            H5Oclose(object)
            return .other
        }
    }

    func openGroup(_ name: String) throws -> HDF5Group {
        HDF5Group(owning: try h5id(H5Gopen2(id, name, reverie_H5P_DEFAULT()), "open group '\(name)'"))
    }

    func createGroup(_ name: String) throws -> HDF5Group {
        let p = reverie_H5P_DEFAULT()
        return HDF5Group(owning: try h5id(H5Gcreate2(id, name, p, p, p), "create group '\(name)'"))
    }

    func openDataset(_ name: String) throws -> HDF5Dataset {
        HDF5Dataset(owning: try h5id(H5Dopen2(id, name, reverie_H5P_DEFAULT()), "open dataset '\(name)'"))
    }

    /// Creates a dataset at the relative `path` (components joined by `/`), creating missing groups on the way.
    /// A dataset with data is stored in chunks with HDF5's Fletcher-32 checksum, which every read verifies: a flipped
    /// bit is an error, never a silently different weight (a scalar or empty one is stored plain: HDF5 cannot chunk
    /// it).
    func createDataset(_ path: String, type: hid_t, space: HDF5Dataspace) throws -> HDF5Dataset {
        let linkCreation = try HDF5PropertyList(reverie_H5P_LINK_CREATE(), "link creation")
        try h5check(H5Pset_create_intermediate_group(linkCreation.id, 1), "enable intermediate groups")
        let creation = try HDF5PropertyList(reverie_H5P_DATASET_CREATE(), "dataset creation")
        let shape = try space.shape()
        if !shape.isEmpty, !shape.contains(0) {
            // One chunk holds the whole tensor, or as many leading rows as fit in 1 GiB (chunks must stay under 4).
            let rowBytes = shape.dropFirst().reduce(H5Tget_size(type), *)
            var chunk = shape.map { hsize_t($0) }
            chunk[0] = hsize_t(max(1, min(shape[0], (1 << 30) / max(rowBytes, 1))))
            try h5check(H5Pset_chunk(creation.id, Int32(chunk.count), chunk), "set chunking")
            try h5check(H5Pset_fletcher32(creation.id), "set the Fletcher-32 checksum")
        }
        let p = reverie_H5P_DEFAULT()
        let id = try h5id(
            H5Dcreate2(self.id, path, type, space.id, linkCreation.id, creation.id, p), "create dataset '\(path)'")
        return HDF5Dataset(owning: id)
    }
}
