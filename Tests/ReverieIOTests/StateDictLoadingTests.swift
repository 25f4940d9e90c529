import Foundation
import ReverieCore
import ReverieIO
import XCTest

final class StateDictLoadingTests: XCTestCase {
    private let file = "/runs/demo/step-100.h5"

    func testStrictLoadCopiesIntoTheParametersStorage() throws {
        let weight = Tensor(zeros: [2, 3])
        let bias = Tensor(zeros: [3])
        let storageBefore = weight.pointer
        let stored = ["proj.weight": try patternTensor([2, 3]), "proj.bias": try patternTensor([3], seed: 1)]

        let params = ["proj.weight": weight, "proj.bias": bias]
        let report = try loadStateDict(stored, into: params, strict: true, file: file)
        XCTAssertEqual(
            report, LoadReport(loaded: ["proj.bias", "proj.weight"], missing: [], unexpected: [], mismatched: []))
        XCTAssertTrue(report.isComplete)
        XCTAssertEqual(weight.pointer, storageBefore, "values are copied in place, the tensor is not replaced")
        XCTAssertEqual(weight.toArray(), stored["proj.weight"]?.toArray())
        XCTAssertEqual(bias.toArray(), stored["proj.bias"]?.toArray())
    }

    func testStrictLoadNamesEveryProblemAndChangesNothing() throws {
        let params = [
            "layers.0.weight": Tensor(zeros: [4, 3]),
            "layers.1.weight": Tensor(zeros: [4, 4]),
            "layers.2.weight": Tensor(zeros: [2]),
            "layers.10.weight": Tensor(zeros: [1]),
            "head.bias": Tensor(zeros: [4]),
        ]
        let stored = [
            "layers.0.weight": try patternTensor([3, 4]),
            "layers.1.weight": try patternTensor([4, 4]),
            "head.bias": try patternTensor([5]),
            "extra.scale": try patternTensor([1]),
        ]
        XCTAssertThrowsError(try loadStateDict(stored, into: params, strict: true, file: file)) { error in
            guard let error = error as? CheckpointError,
                case let .stateDictMismatch(path, missing, unexpected, mismatched) = error
            else { return XCTFail("unexpected error \(error)") }
            XCTAssertEqual(path, file)
            XCTAssertEqual(missing, ["layers.2.weight", "layers.10.weight"])
            XCTAssertEqual(unexpected, ["extra.scale"])
            XCTAssertEqual(
                mismatched,
                [
                    ShapeMismatch(key: "head.bias", expected: [4], found: [5]),
                    ShapeMismatch(key: "layers.0.weight", expected: [4, 3], found: [3, 4]),
                ])
            XCTAssertEqual(
                error.description,
                """
                \(file) does not match the model (strict load):
                  missing from the checkpoint (2): layers.2.weight, layers.10.weight
                  unexpected in the checkpoint (1): extra.scale
                  mis-shaped (2):
                    head.bias: model [4], checkpoint [5]
                    layers.0.weight: model [4, 3], checkpoint [3, 4]
                """)
        }
        // A failed strict load leaves every parameter as it was, including the one that did match.
        XCTAssertTrue(params.values.allSatisfy { $0.toArray().allSatisfy { $0 == 0 } })
    }

    func testNonStrictLoadLoadsWhatMatchesAndReportsTheRest() throws {
        let matching = Tensor(zeros: [2])
        let misShaped = Tensor(zeros: [3])
        let absent = Tensor(zeros: [1])
        let stored = ["a": try patternTensor([2]), "b": try patternTensor([4]), "c": try patternTensor([1])]
        let params = ["a": matching, "b": misShaped, "d": absent]
        let report = try loadStateDict(stored, into: params, strict: false, file: file)
        XCTAssertEqual(
            report,
            LoadReport(
                loaded: ["a"], missing: ["d"], unexpected: ["c"],
                mismatched: [ShapeMismatch(key: "b", expected: [3], found: [4])]))
        XCTAssertFalse(report.isComplete)
        XCTAssertEqual(matching.toArray(), stored["a"]?.toArray())
        XCTAssertEqual(misShaped.toArray(), [0, 0, 0])
        XCTAssertEqual(absent.toArray(), [0])
    }

    func testLoadModelFromAFile() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("model.h5")
        let trained = ["enc.w": try patternTensor([3, 2]), "enc.b": try patternTensor([2], seed: 4)]
        try Checkpoint(model: trained).write(to: url, dtype: .float16)

        let params = ["enc.w": Tensor(zeros: [3, 2]), "enc.b": Tensor(zeros: [2]), "head.w": Tensor(zeros: [2])]
        XCTAssertThrowsError(try Checkpoint.loadModel(from: url, into: params)) { error in
            XCTAssertEqual(
                error as? CheckpointError,
                .stateDictMismatch(
                    path: url.path, missing: ["head.w"], unexpected: [], mismatched: []))
        }
        let report = try Checkpoint.loadModel(from: url, into: params, strict: false)
        XCTAssertEqual(report.loaded, ["enc.b", "enc.w"])
        XCTAssertEqual(report.missing, ["head.w"])
        for (key, tensor) in trained {
            let loaded = try XCTUnwrap(params[key]).toArray()
            XCTAssertEqual(loaded, tensor.toArray().map { Float(Float16($0)) }, key)
        }
    }
}
