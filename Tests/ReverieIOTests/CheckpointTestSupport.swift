import CHDF5
import Foundation
import ReverieCore
import XCTest

@testable import ReverieIO

/// A fresh directory under the system temporary directory, removed when the test case tears down.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("reverie-io-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Names of the files in the directory, sorted.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A tensor of `shape` with distinct, non-trivial values (so a transposed or shuffled read would show).
func patternTensor(_ shape: [Int], seed: Float = 0) throws -> Tensor {
    let count = shape.reduce(1, *)
    let data = (0..<count).map { i in sin(Float(i) * 0.37 + seed) * Float(i % 7 + 1) }
    return try Tensor(shape: shape, data: data)
}

/// Asserts that `body` throws a `CheckpointError` and returns it, failing the test otherwise.
func checkpointError(
    _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line
) -> CheckpointError? {
    do {
        try body()
        XCTFail("expected a CheckpointError, nothing was thrown", file: file, line: line)
    } catch let error as CheckpointError {
        return error
    } catch {
        XCTFail("expected a CheckpointError, got \(type(of: error)): \(error)", file: file, line: line)
    }
    return nil
}

/// Writes an arbitrary HDF5 file through the internal handle layer, for files Reverie itself would not write
/// (foreign formats, h5py-style attributes, other dtypes).
func writeRawHDF5(_ url: URL, _ body: (HDF5File) throws -> Void) throws {
    try HDF5Library.withLock {
        let file = try HDF5File.create(at: url.path)
        try body(file)
        try file.close()
    }
}

/// Writes a variable-length UTF-8 string attribute, as h5py does for a Python `str`.
func writeVariableLengthString(_ name: String, _ value: String, on object: HDF5Object) throws {
    let type = try HDF5Datatype.copy(of: reverie_H5T_C_S1())
    try h5check(H5Tset_size(type.id, reverie_H5T_VARIABLE()), "size")
    try h5check(H5Tset_cset(type.id, H5T_CSET_UTF8), "cset")
    let space = try HDF5Dataspace(shape: [])
    let p = reverie_H5P_DEFAULT()
    let attribute = HDF5Attribute(owning: try h5id(H5Acreate2(object.id, name, type.id, space.id, p, p), "create"))
    try value.withCString { pointer in
        var pointers: [UnsafePointer<CChar>?] = [pointer]
        try h5check(H5Awrite(attribute.id, type.id, &pointers), "write")
    }
}
