import ReverieCore
import ReverieDistributed
import ReverieNN
import XCTest

@testable import ReverieTrain

/// Buckets start while gradients are still arriving, in one fixed order whatever the order of arrival, and cover
/// the buffer once.
final class OverlappedReductionTests: XCTestCase {
    /// Records the buffer ranges started, and doubles them (a peer holding the same gradients).
    final class Recorder: Communicator, @unchecked Sendable {
        var base: UnsafeMutablePointer<Float>?
        var started: [Range<Int>] = []
        var completed = false
        var rank: Int { 0 }
        var size: Int { 2 }
        func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
        func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {}
        func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
        func barrier() throws {}
        func abort(code: Int32) -> Never { fatalError() }
        func startAllreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
            let start = values.baseAddress! - base!
            started.append(start..<(start + values.count))
            for i in values.indices { values[i] *= 2 }
        }
        func completeStarted() throws { completed = true }
    }

    func testBucketsStartAsTheirGradientsArriveInAFixedOrder() throws {
        let params = [3, 5, 4, 2].enumerated().map { ("p\($0.offset)", Tensor(zeros: [$0.element])) }
        let buffer = GradientBuffer(parameters: params)
        let peer = Recorder()
        peer.base = buffer.flat.pointer
        let reduction = OverlappedReduction(buffer: buffer, communicator: peer, bucketElements: 4)
        XCTAssertEqual(reduction.bucketCount, 4)  // 14 elements: 0..<4, 4..<8, 8..<12, 12..<14
        for order in [[3, 2, 1, 0], [0, 2, 3, 1]] {
            peer.started = []
            peer.completed = false
            reduction.begin()
            var startedDuringBackward = 0
            for i in order where i != 1 || order[0] == 3 {  // in the second order p1 is never reached
                let p = params[i].1
                try reduction.deliver(p, Tensor(repeating: Float(i + 1), shape: p.shape))
                startedDuringBackward = peer.started.count
            }
            try reduction.finish()
            XCTAssertTrue(peer.completed)
            XCTAssertEqual(peer.started, [12..<14, 8..<12, 4..<8, 0..<4], "always from the end, each once")
            if order[0] == 3 { XCTAssertEqual(startedDuringBackward, 4, "reverse arrival starts every bucket early") }
            let expected: [Float] =
                order[0] == 3
                ? [2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 8, 8] : [2, 2, 2, 0, 0, 0, 0, 0, 6, 6, 6, 6, 8, 8]
            XCTAssertEqual(buffer.flat.toArray(), expected)
        }
    }
}
