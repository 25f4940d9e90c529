import CHDF5
import Foundation
import ReverieCore
import XCTest

@testable import ReverieIO

final class CheckpointRoundTripTests: XCTestCase {
    func testFloat32RoundTripIsExact() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("model.h5")
        let model: [String: Tensor] = [
            "llm.layers.3.attn.q_proj.weight": try patternTensor([4, 3]),
            "llm.norm.weight": try patternTensor([3], seed: 1),
            "vision.patch_embed.weight": try patternTensor([2, 3, 2, 2], seed: 2),
            "scale": Tensor(scalar: .pi),
            "empty": Tensor(zeros: [0, 5]),
            "specials": try Tensor(
                shape: [5], data: [.infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]),
        ]
        try Checkpoint(model: model).write(to: url)

        let loaded = try Checkpoint.read(from: url, allowNonFinite: true)
        XCTAssertEqual(Set(loaded.model.keys), Set(model.keys))
        for (key, tensor) in model {
            let other = try XCTUnwrap(loaded.model[key], key)
            XCTAssertEqual(other.shape, tensor.shape, key)
            XCTAssertEqual(other.toArray().map(\.bitPattern), tensor.toArray().map(\.bitPattern), key)
        }
        XCTAssertTrue(loaded.optimizer.isEmpty)
        XCTAssertTrue(loaded.state.isEmpty)
        XCTAssertEqual(try Checkpoint.inspect(url).datasets.map(\.dtype), Array(repeating: "float32", count: 6))
    }

    func testFloat16RoundTripIsWithinHalfPrecisionAndReportedAsFloat16() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("half.h5")
        let weight = try patternTensor([16, 8])
        let moment = try patternTensor([16, 8], seed: 3)
        let checkpoint = Checkpoint(model: ["proj.weight": weight], optimizer: ["proj.weight.exp_avg": moment])
        try checkpoint.write(to: url, dtype: .float16)

        let loaded = try Checkpoint.read(from: url)
        let values = try XCTUnwrap(loaded.model["proj.weight"]).toArray()
        for (stored, original) in zip(values, weight.toArray()) {
            // Half has an 11-bit significand: relative error at most 2^-11 after rounding to nearest.
            XCTAssertEqual(stored, original, accuracy: abs(original) * 0x1p-11 + 1e-7)
            XCTAssertEqual(stored, Float(Float16(original)), "rounding must be IEEE round-to-nearest-even")
        }
        // Optimizer state is never narrowed.
        XCTAssertEqual(try XCTUnwrap(loaded.optimizer["proj.weight.exp_avg"]).toArray(), moment.toArray())

        let dtypes = Dictionary(uniqueKeysWithValues: try Checkpoint.inspect(url).datasets.map { ($0.key, $0.dtype) })
        XCTAssertEqual(dtypes, ["model.proj.weight": "float16", "optimizer.proj.weight.exp_avg": "float32"])
    }

    func testFloat16SpecialValuesSurviveTheFile() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("specials.h5")
        let values: [Float] = [0, -0.0, 1, -2.5, 65504, 70000, -1e9, 0x1p-14, 0x1p-24, 0x1.8p-20, 1e-10, .infinity]
        try Checkpoint(model: ["v": try Tensor(shape: [values.count], data: values)]).write(to: url, dtype: .float16)
        let loaded = try XCTUnwrap(try Checkpoint.read(from: url, allowNonFinite: true).model["v"]).toArray()
        let expected = values.map { Float(Float16($0)) }
        XCTAssertEqual(loaded.map(\.bitPattern), expected.map(\.bitPattern))
    }

    func testBFloat16RoundTrip() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("bf16.h5")
        let weight = try patternTensor([33])
        try Checkpoint(model: ["w": weight]).write(to: url, dtype: .bfloat16)
        let loaded = try XCTUnwrap(try Checkpoint.read(from: url).model["w"]).toArray()
        for (stored, original) in zip(loaded, weight.toArray()) {
            XCTAssertEqual(stored, original, accuracy: abs(original) * 0x1p-8)
            XCTAssertEqual(stored.bitPattern & 0xFFFF, 0)
        }
        XCTAssertEqual(try Checkpoint.inspect(url).datasets.map(\.dtype), ["bfloat16"])
    }

    func testAttributesRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("attributes.h5")
        let recipeLine = "  - {caption: \"un cercle rouge à gauche\", emoji: \"🔴\", note: 'quoted: yes'}\n"
        let recipe = "model:\n  llm: {type: llama, dim: 64}\ndata:\n" + String(repeating: recipeLine, count: 1500)
        XCTAssertGreaterThan(recipe.utf8.count, 64 * 1024, "larger than HDF5's compact attribute limit")
        let config = #"{"dim": 64, "name": "réverie ✨", "layers": [1, 2, 3], "escaped": "a\"b\\c\n"}"#
        var checkpoint = Checkpoint(model: ["w": try patternTensor([2])])
        checkpoint.recipe = recipe
        checkpoint.modelConfig = config
        checkpoint.step = 123_456_789_012
        checkpoint.attributes["learning_rate"] = .double(3e-4)
        checkpoint.attributes["seed"] = .int(-7)
        checkpoint.attributes["note"] = .string("")
        try checkpoint.write(to: url)

        let attributes = try Checkpoint.readAttributes(from: url)
        XCTAssertEqual(attributes, checkpoint.attributes)
        let loaded = try Checkpoint.read(from: url)
        XCTAssertEqual(loaded.recipe, recipe)
        XCTAssertEqual(loaded.modelConfig, config)
        XCTAssertEqual(loaded.step, 123_456_789_012)
        let listing = try Checkpoint.inspect(url)
        XCTAssertEqual(listing.attributes["format"], .string("reverie"))
        XCTAssertEqual(listing.attributes["format_version"], .int(1))
        XCTAssertEqual(listing.attributeNamesInDisplayOrder.prefix(2), ["format", "format_version"])
    }

    func testVariableLengthStringAttributesAreRead() throws {
        // h5py stores a Python str attribute as a variable-length UTF-8 string.
        let directory = try TemporaryDirectory()
        let url = directory.file("h5py-style.h5")
        try writeRawHDF5(url) { file in
            try writeVariableLengthString("format", "reverie", on: file)
            try file.writeAttribute("format_version", .int(1))
            try writeVariableLengthString("recipe", "seed: 1\nname: \"ünïcødé ✓\"\n", on: file)
        }
        XCTAssertEqual(
            try Checkpoint.readAttributes(from: url), ["recipe": .string("seed: 1\nname: \"ünïcødé ✓\"\n")])
    }

    func testKeysBecomeNestedGroups() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("layout.h5")
        var checkpoint = Checkpoint(model: [
            "llm.layers.3.attn.q_proj.weight": try patternTensor([2, 2]),
            "llm.layers.10.attn.q_proj.weight": try patternTensor([2, 2]),
            "llm.layers.2.mlp.up.bias": try patternTensor([2]),
        ])
        checkpoint.optimizer = ["llm.layers.3.attn.q_proj.weight.exp_avg": try patternTensor([2, 2])]
        checkpoint.state = ["ema.decay": Tensor(scalar: 0.999)]
        checkpoint.integers = ["optimizer.step": [42], "state.rng": [Int64(bitPattern: 0xDEAD_BEEF_CAFE_F00D), 1]]
        try checkpoint.write(to: url)

        let listing = try Checkpoint.inspect(url)
        XCTAssertEqual(
            listing.datasets.map(\.path),
            [
                "/model/llm/layers/2/mlp/up/bias",
                "/model/llm/layers/3/attn/q_proj/weight",
                "/model/llm/layers/10/attn/q_proj/weight",
                "/optimizer/llm/layers/3/attn/q_proj/weight/exp_avg",
                "/optimizer/step",
                "/state/ema/decay",
                "/state/rng",
            ])
        XCTAssertEqual(listing.datasets.map(\.key).first, "model.llm.layers.2.mlp.up.bias")
        XCTAssertEqual(listing.datasets.first { $0.key == "optimizer.step" }?.dtype, "int64")
        XCTAssertEqual(listing.datasets.first { $0.key == "state.ema.decay" }?.shape, [])
        XCTAssertEqual(listing.modelParameterCount, 10)

        // The groups are real HDF5 groups, not names with slashes.
        try HDF5Library.withLock {
            let file = try HDF5File.openReadOnly(url.path)
            XCTAssertEqual(try file.linkNames(), ["model", "optimizer", "state"])
            guard case .group(let layers)? = try file.child(at: ["model", "llm", "layers"]) else {
                return XCTFail("/model/llm/layers is not a group")
            }
            XCTAssertEqual(try layers.linkNames().sorted(), ["10", "2", "3"])
        }

        let loaded = try Checkpoint.read(from: url)
        XCTAssertEqual(loaded.integers, checkpoint.integers)
        XCTAssertEqual(Set(loaded.model.keys), Set(checkpoint.model.keys))
        XCTAssertEqual(Set(loaded.optimizer.keys), ["llm.layers.3.attn.q_proj.weight.exp_avg"])
        XCTAssertEqual(loaded.state["ema.decay"]?.toArray(), [0.999])
    }

    func testReadingSelectedSectionsAndPrefix() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("sections.h5")
        let checkpoint = Checkpoint(
            model: [
                "decoder.conv.weight": try patternTensor([3]), "decoderx.w": try patternTensor([1]),
                "llm.w": try patternTensor([2]),
            ],
            optimizer: ["llm.w.exp_avg": try patternTensor([2])],
            integers: ["optimizer.step": [3]])
        try checkpoint.write(to: url)

        let modelOnly = try Checkpoint.read(from: url, sections: [.model])
        XCTAssertEqual(modelOnly.model.count, 3)
        XCTAssertTrue(modelOnly.optimizer.isEmpty)
        XCTAssertTrue(modelOnly.integers.isEmpty)

        let decoder = try Checkpoint.read(from: url, sections: [.model], prefix: "decoder")
        XCTAssertEqual(Array(decoder.model.keys), ["decoder.conv.weight"])
        let single = try Checkpoint.read(from: url, sections: [.model], prefix: "llm.w")
        XCTAssertEqual(Array(single.model.keys), ["llm.w"])
        XCTAssertTrue(try Checkpoint.read(from: url, prefix: "absent").model.isEmpty)
        XCTAssertEqual(try Checkpoint.readTensor("llm.w", from: url).toArray(), checkpoint.model["llm.w"]?.toArray())
    }

    func testForeignFloatDatasetsAreConvertedAndIntegerWeightsRefused() throws {
        // Files written by other tools may store float64 tensors; they load as Float32.
        let directory = try TemporaryDirectory()
        let url = directory.file("foreign.h5")
        try writeRawHDF5(url) { file in
            try file.writeAttribute("format", .string("reverie"))
            try file.writeAttribute("format_version", .int(1))
            let doubles: [Double] = [1.5, -2.25, 1e-3]
            let space = try HDF5Dataspace(shape: [3])
            try file.createDataset("model/a/f64", type: reverie_H5T_IEEE_F64LE(), space: space)
                .write(doubles, memoryType: reverie_H5T_NATIVE_DOUBLE())
            let ints: [Int64] = [7, -8, 9]
            try file.createDataset("model/a/i64", type: reverie_H5T_STD_I64LE(), space: space)
                .write(ints, memoryType: reverie_H5T_NATIVE_INT64())
        }
        // float64 converts; integers are not weights (a float's bytes read as int32 are huge numbers): refused.
        XCTAssertEqual(try Checkpoint.read(from: url, prefix: "a.f64").model["a.f64"]?.toArray(), [1.5, -2.25, 1e-3])
        XCTAssertThrowsError(try Checkpoint.read(from: url)) { error in
            XCTAssertEqual(
                error as? CheckpointError, .unsupportedDataset(path: url.path, key: "model.a.i64", dtype: "int64"))
        }
        XCTAssertEqual(try Checkpoint.inspect(url).datasets.map(\.dtype), ["float64", "int64"])
    }
}
