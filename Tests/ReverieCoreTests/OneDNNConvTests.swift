import Foundation
import ReverieTestSupport
import XCTest

@testable import ReverieCore

/// conv2d through oneDNN against Reverie's own kernels (the reference path) on decoder-sized layers: values and all
/// three gradients, oneDNN really used, batches split into several chunks (with a smaller last one), and results
/// that do not depend on whether chunks run side by side or one after another.
final class OneDNNConvTests: XCTestCase {
    /// (x shape, weight shape, stride, padding): the UNet's and VAE's shapes, a strided downsampler, odd sizes.
    static let layers: [([Int], [Int], Int, Int)] = [
        ([8, 64, 16, 16], [64, 64, 3, 3], 1, 1),  // 4 chunks of 2
        ([5, 128, 8, 8], [128, 128, 3, 3], 1, 1),  // 2 chunks: 3, 2
        ([3, 32, 32, 32], [16, 32, 3, 3], 1, 1),
        ([4, 64, 16, 16], [64, 64, 3, 3], 2, 1),  // downsampler
        ([2, 4, 17, 13], [32, 4, 3, 3], 1, 1),  // conv_in: few channels, odd sizes
        ([2, 16, 9, 11], [4, 16, 3, 3], 1, 0),
    ]

    /// Output, dx, dW and db of one layer under `kernels`.
    func run(_ layer: ([Int], [Int], Int, Int), _ kernels: ConvolutionKernels) throws -> [[Float]] {
        var result: [[Float]] = []
        try ConvTests.with(kernels) {
            let (xs, ws, stride, padding) = layer
            let x = randomInput(xs, seed: 1), w = randomInput(ws, seed: 2, scale: 0.1)
            let b = randomInput([ws[0]], seed: 3)
            let y = try conv2d(x, weight: w, bias: b, stride: stride, padding: padding)
            try y.backward(seed: randomInput(y.shape, seed: 4))
            result = [y.toArray(), x.grad!.toArray(), w.grad!.toArray(), b.grad!.toArray()]
        }
        return result
    }

    func testOneDNNMatchesReverieKernelsInValuesAndGradients() throws {
        for (n, layer) in Self.layers.enumerated() {
            let g = try Conv2dGeometry(
                input: layer.0, weight: layer.1, bias: nil, stride: (layer.2, layer.2),
                padding: (layer.3, layer.3))
            XCTAssertNotNil(
                OneDNNConv.kernelName(g), "oneDNN refused layer \(n): the test would compare Reverie with itself")
            let onednn = try run(layer, .onednn), reverie = try run(layer, .reverie)
            for (what, (a, b)) in zip(["output", "dx", "dW", "db"], zip(onednn, reverie)) {
                let scale = b.map(abs).max() ?? 1
                assertClose(a, b, atol: 2e-5 * Swift.max(scale, 1), rtol: 1e-4, "layer \(n) \(what)")
            }
        }
    }

    func testChunksAreFixedBySizes() throws {
        let g = try Conv2dGeometry(
            input: [5, 128, 8, 8], weight: [128, 128, 3, 3], bias: nil, stride: (1, 1), padding: (1, 1))
        XCTAssertEqual(OneDNNConv.chunks(g), [0..<3, 3..<5])
        let small = try Conv2dGeometry(
            input: [2, 4, 8, 8], weight: [4, 4, 3, 3], bias: nil, stride: (1, 1), padding: (1, 1))
        XCTAssertEqual(OneDNNConv.chunks(small), [0..<2])
    }

    func testAFallbackKeepsOneDNNsReasonPerGeometry() throws {
        let g = try Conv2dGeometry(
            input: [3, 5, 7, 9], weight: [2, 5, 3, 3], bias: nil, stride: (2, 1), padding: (0, 1))
        OneDNNConv.reportFallback(g, "a test's first reason")
        OneDNNConv.reportFallback(g, "a test's second reason")
        let said = OneDNNConv.fallbackReasons.filter { $0.key.hasPrefix("[3, 5, 7, 9] * [2, 5, 3, 3] stride 2×1") }
        XCTAssertEqual(said.count, 1)
        XCTAssertEqual(said.first?.value, "a test's second reason")
    }

    func testFewChannelsWithoutBiasStayOnOneDNN() throws {
        // oneDNN's GEMM-based kernels (which it picks for few channels) refuse to run without the bias the
        // primitive was made with; they once fell back here, silently.
        for (input, weight, stride, padding) in [
            ([1, 3, 4, 4], [2, 3, 3, 3], 1, 0), ([2, 2, 7, 6], [3, 2, 3, 3], 2, 1),
        ] {
            let g = try Conv2dGeometry(
                input: input, weight: weight, bias: nil, stride: (stride, stride), padding: (padding, padding))
            let x = randomInput(input, seed: 1), w = randomInput(weight, seed: 2)
            let out = Tensor(uninitialized: [input[0], weight[0], g.outH, g.outW])
            XCTAssertTrue(OneDNNConv.forward(g, x: x.pointer, weight: w.pointer, bias: nil, out: out.pointer))
            var reference = Tensor(scalar: 0)
            try ConvTests.with(.reverie) {
                reference = try conv2d(x, weight: w, bias: nil, stride: stride, padding: padding)
            }
            assertClose(out, reference, atol: 1e-5, rtol: 1e-5, "\(input) * \(weight)")
        }
    }

    func testAnEmptyBatchFallsBackToReverieKernels() throws {
        let g = try Conv2dGeometry(
            input: [0, 4, 8, 8], weight: [4, 4, 3, 3], bias: nil, stride: (1, 1), padding: (1, 1))
        XCTAssertEqual(OneDNNConv.chunks(g), [])
        try ConvTests.with(.onednn) {
            let x = Tensor(zeros: [0, 4, 8, 8], requiresGrad: true)
            let w = randomInput([4, 4, 3, 3], seed: 5)
            w.requiresGrad = true
            let y = try conv2d(x, weight: w, bias: nil, padding: 1)
            XCTAssertEqual(y.shape, [0, 4, 8, 8])
            try y.backward(seed: Tensor(zeros: y.shape))
            XCTAssertEqual(w.grad?.toArray(), [Float](repeating: 0, count: w.count))
        }
    }

    func testSideBySideAndInOrderChunksGiveIdenticalBits() throws {
        // Outside a parallel region the chunks run concurrently; inside one (a job among several) in order.
        let layer = Self.layers[1]
        let together = try run(layer, .onednn)
        let inOrder = try ThreadPolicy.asOneOfManyJobs { try run(layer, .onednn) }
        XCTAssertEqual(together, inOrder)
    }
}
