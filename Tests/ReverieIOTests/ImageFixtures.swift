import Foundation
import XCTest

@testable import ReverieIO

/// The photo fixtures written by `tools/fixtures/images.py` and Pillow's reference outputs for them.
struct PhotoFixture: Decodable {
    struct Resize: Decodable {
        let filter: String
        let width: Int
        let height: Int
        let file: String
        let sample: String
    }

    let file: String
    let width: Int
    let height: Int
    let channels: Int
    let bitDepth: Int
    let decoded: String
    let resizes: [Resize]

    enum CodingKeys: String, CodingKey {
        case file, width, height, channels, decoded, resizes
        case bitDepth = "bit_depth"
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/photos")
    static let referenceDirectory = directory.appendingPathComponent("reference")

    static func all() throws -> [PhotoFixture] {
        let data = try Data(contentsOf: referenceDirectory.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode([PhotoFixture].self, from: data)
    }

    var url: URL { Self.directory.appendingPathComponent(file) }

    /// Pillow's decoded samples, as floats in [0, 1] (8-bit divided by 255, 16-bit by 65535).
    func referenceSamples() throws -> [Float] {
        let data = try Data(contentsOf: Self.referenceDirectory.appendingPathComponent(decoded))
        if bitDepth == 16 {
            return data.withUnsafeBytes { raw in
                (0..<(data.count / 2)).map {
                    Float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) / 65535
                }
            }
        }
        return [UInt8](data).map { Float($0) / 255 }
    }

    /// Pillow's resize output as floats in [0, 1].
    func resizeSamples(_ resize: Resize) throws -> [Float] {
        let data = try Data(contentsOf: Self.referenceDirectory.appendingPathComponent(resize.file))
        if resize.sample == "float32" {
            return data.withUnsafeBytes { raw in
                (0..<(data.count / 4)).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
                }
            }
        }
        return [UInt8](data).map { Float($0) / 255 }
    }
}

/// Mean and largest absolute difference between two equally long sample arrays.
func sampleDifference(_ a: [Float], _ b: [Float]) -> (mean: Float, max: Float) {
    var total = 0.0
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        total += Double(d)
        worst = max(worst, d)
    }
    return (Float(total / Double(max(a.count, 1))), worst)
}
