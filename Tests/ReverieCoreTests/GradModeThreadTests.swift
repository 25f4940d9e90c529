import Foundation
import ReverieCore
import ReverieTestSupport
import XCTest

/// What data-parallel micro-batches rely on: no-grad is per thread, and gradients can be collected per graph
/// instead of added to the leaves.
final class GradModeThreadTests: XCTestCase {
    /// While one thread sits inside `withNoGrad`, another thread's operations still record.
    func testNoGradOnOneThreadDoesNotStopAnotherFromRecording() throws {
        let x = try Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let entered = DispatchSemaphore(value: 0), leave = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            withNoGrad {
                entered.signal()
                leave.wait()
            }
            done.signal()
        }
        entered.wait()
        XCTAssertTrue(GradMode.isEnabled)
        let y = x * 3
        XCTAssertTrue(y.requiresGrad)
        leave.signal()
        done.wait()
        // And the other way round: this thread's no-grad scope ends where it should.
        withNoGrad { XCTAssertFalse(GradMode.isEnabled) }
        XCTAssertTrue(GradMode.isEnabled)
    }

    /// `leafGradients` returns what `backward` would add (a leaf used twice gets the sum), leaving `grad` alone;
    /// `accumulateGradient` then adds it.
    func testLeafGradientsEqualBackwardAndLeaveGradUntouched() throws {
        let x = try Tensor(shape: [3], data: [1, -2, 0.5], requiresGrad: true)
        let w = try Tensor(shape: [3], data: [2, 3, 4], requiresGrad: true)
        func loss() throws -> Tensor { try ((x * w).exp() + x.square()).sum() }
        let seed = try Tensor(shape: [], data: [0.5])
        let collected = try loss().leafGradients(seed: seed)
        XCTAssertNil(x.grad)
        XCTAssertNil(w.grad)
        XCTAssertEqual(collected.count, 2)
        try loss().backward(seed: seed)
        assertClose(try XCTUnwrap(collected[ObjectIdentifier(x)]).toArray(), x.grad!.toArray(), atol: 0)
        assertClose(try XCTUnwrap(collected[ObjectIdentifier(w)]).toArray(), w.grad!.toArray(), atol: 0)
        let before = x.grad!.toArray()
        x.accumulateGradient(collected[ObjectIdentifier(x)]!)
        assertClose(x.grad!.toArray(), before.map { 2 * $0 }, atol: 0)
    }

    /// Two threads each back-propagate their own graph over shared leaves at the same time.
    func testConcurrentGraphsOverSharedLeaves() throws {
        let w = try Tensor(shape: [64, 64], data: (0..<4096).map { Float($0 % 17) / 17 - 0.5 }, requiresGrad: true)
        let inputs = try (0..<2).map { k in
            try Tensor(shape: [8, 64], data: (0..<512).map { Float(($0 * (k + 3)) % 11) / 11 })
        }
        let expected = try inputs.map { try matmul($0, w).tanh().sum().leafGradients()[ObjectIdentifier(w)]!.toArray() }
        var got: [[Float]] = [[], []]
        got.withUnsafeMutableBufferPointer { out in
            DispatchQueue.concurrentPerform(iterations: 2) { k in
                for _ in 0..<20 {
                    let g = try? matmul(inputs[k], w).tanh().sum().leafGradients()[ObjectIdentifier(w)]
                    out[k] = g?.toArray() ?? []
                }
            }
        }
        XCTAssertNil(w.grad)
        for k in 0..<2 { assertClose(got[k], expected[k], rtol: 1e-5) }
    }
}
