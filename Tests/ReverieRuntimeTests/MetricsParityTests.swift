import Foundation
import ReverieCore
import ReverieRuntime
import XCTest

/// PSNR and SSIM equal scikit-image's, corpus BLEU-4 NLTK's (`tools/fixtures/metrics.py`); token F1 and exact match
/// by hand.
final class MetricsParityTests: XCTestCase {
    struct Reference: Decodable {
        struct Pair: Decodable {
            let shape: [Int]
            let a: [Float], b: [Float]
            let ssim: Double, psnr: Double
        }
        let images: [Pair]
        let hypotheses: [String], references: [String]
        let bleu4: Double
    }

    static func reference() throws -> Reference {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/metrics/reference.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    func testImageMetricsMatchScikitImage() throws {
        for pair in try Self.reference().images {
            let (a, b) = (try Tensor(shape: pair.shape, data: pair.a), try Tensor(shape: pair.shape, data: pair.b))
            XCTAssertEqual(try ImageMetrics.ssim(a, b), pair.ssim, accuracy: 1e-5, "\(pair.shape)")
            XCTAssertEqual(try ImageMetrics.psnr(a, b), pair.psnr, accuracy: 1e-4, "\(pair.shape)")
            XCTAssertEqual(try ImageMetrics.ssim(a, a), 1, accuracy: 1e-9)
            XCTAssertEqual(try ImageMetrics.psnr(a, a), .infinity)
        }
        XCTAssertThrowsError(try ImageMetrics.ssim(Tensor(zeros: [3, 8, 8]), Tensor(zeros: [3, 8, 8])))
        XCTAssertThrowsError(try ImageMetrics.psnr(Tensor(zeros: [3, 16, 16]), Tensor(zeros: [3, 16, 8])))
    }

    func testTextMetrics() throws {
        let r = try Self.reference()
        XCTAssertEqual(TextMetrics.bleu4(hypotheses: r.hypotheses, references: r.references), r.bleu4, accuracy: 1e-12)
        XCTAssertEqual(TextMetrics.bleu4(hypotheses: ["a b"], references: ["a b c d e"]), 0)  // no 3- or 4-gram
        XCTAssertTrue(TextMetrics.exactMatch("A  red circle", "a red circle"))
        // hypothesis "the cat the", reference "the cat sat": 2 common tokens, P = R = 2/3
        XCTAssertEqual(TextMetrics.tokenF1("the cat the", "the cat sat"), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(TextMetrics.tokenF1("dog", "the cat"), 0)
    }
}
