import Foundation
import ReverieTestSupport
import XCTest

@testable import ReverieCore

/// conv2d, groupNorm, upsampleNearest, avgPool2d and adaptiveAvgPool2d: hand-computed values, direct-loop references,
/// gradient checks for every input, and shape errors.
final class ConvTests: XCTestCase {
    // MARK: - References

    /// Direct-loop convolution (no im2col, no BLAS): the reference for random configurations.
    static func referenceConv2d(
        _ x: Tensor, _ w: Tensor, _ bias: Tensor?, stride: (Int, Int),
        padding: (Int, Int)
    ) -> [Float] {
        let (b, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cout, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (h + 2 * padding.0 - kh) / stride.0 + 1, ow = (wd + 2 * padding.1 - kw) / stride.1 + 1
        var out = [Float](repeating: 0, count: b * cout * oh * ow)
        for n in 0..<b {
            for o in 0..<cout {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var s: Double = bias.map { Double($0[o]) } ?? 0
                        for c in 0..<cin {
                            for ki in 0..<kh {
                                for kj in 0..<kw {
                                    let ih = i * stride.0 - padding.0 + ki, iw = j * stride.1 - padding.1 + kj
                                    guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                                    s += Double(x[n, c, ih, iw]) * Double(w[o, c, ki, kj])
                                }
                            }
                        }
                        out[((n * cout + o) * oh + i) * ow + j] = Float(s)
                    }
                }
            }
        }
        return out
    }

    /// One convolution shape: x is [batch, cin, h, w], weight is [cout, cin, kh, kw].
    struct ConvCase {
        var batch, cin, cout, h, w, kh, kw: Int
        var stride: (Int, Int), padding: (Int, Int)
        var bias = true
    }

    static let convCases: [ConvCase] = [
        ConvCase(batch: 2, cin: 3, cout: 4, h: 5, w: 6, kh: 3, kw: 3, stride: (1, 1), padding: (1, 1)),
        ConvCase(batch: 1, cin: 2, cout: 3, h: 6, w: 5, kh: 3, kw: 3, stride: (2, 2), padding: (0, 0)),
        ConvCase(batch: 2, cin: 2, cout: 3, h: 7, w: 6, kh: 3, kw: 3, stride: (2, 2), padding: (1, 1), bias: false),
        ConvCase(batch: 2, cin: 3, cout: 2, h: 4, w: 5, kh: 1, kw: 1, stride: (1, 1), padding: (0, 0)),  // pointwise
        ConvCase(batch: 1, cin: 2, cout: 3, h: 5, w: 5, kh: 1, kw: 1, stride: (2, 2), padding: (1, 1)),
        ConvCase(batch: 2, cin: 2, cout: 3, h: 5, w: 7, kh: 2, kw: 3, stride: (2, 1), padding: (0, 1)),
        ConvCase(batch: 1, cin: 1, cout: 2, h: 3, w: 4, kh: 3, kw: 3, stride: (1, 1), padding: (2, 2)),  // pad > k/2
        ConvCase(batch: 2, cin: 2, cout: 3, h: 5, w: 6, kh: 2, kw: 3, stride: (1, 1), padding: (0, 1)),
        ConvCase(batch: 1, cin: 3, cout: 2, h: 4, w: 4, kh: 3, kw: 3, stride: (1, 1), padding: (0, 0), bias: false),
    ]

    // MARK: - conv2d

    func testConv2dHandComputedStride2Padding1() throws {
        // 1×4×4 input 1…16, horizontal Sobel kernel, bias 0.5, stride 2, padding 1: the windows are centred on
        // input pixels (0,0), (0,2), (2,0), (2,2). For (0,0): row 0 [0 1 2]·[2 0 −2] = −4 and row 1 [0 5 6]·[1 0 −1]
        // = −6 (row −1 is padding), so −10 + 0.5. Likewise −6, −40 and −8, each + 0.5.
        let x = try Tensor(shape: [1, 1, 4, 4], data: (1...16).map(Float.init), requiresGrad: true)
        let w = try Tensor(shape: [1, 1, 3, 3], data: [1, 0, -1, 2, 0, -2, 1, 0, -1], requiresGrad: true)
        let b = try Tensor(shape: [1], data: [0.5], requiresGrad: true)
        let y = try conv2d(x, weight: w, bias: b, stride: 2, padding: 1)
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        assertClose(y.toArray(), [-9.5, -5.5, -39.5, -7.5], atol: 0)

        // With dy = 1: dW[ki, kj] sums the padded input under tap (ki, kj) over the four windows; db counts the
        // outputs; dx sums the taps covering each pixel (the ±1, ±2 columns cancel except in the last column).
        try y.sum().backward()
        assertClose(w.grad!.toArray(), [6, 12, 14, 12, 24, 28, 20, 40, 44], atol: 0)
        assertClose(b.grad!.toArray(), [4], atol: 0)
        assertClose(x.grad!.toArray(), [0, 0, 0, -2, 0, 0, 0, -2, 0, 0, 0, -2, 0, 0, 0, -1], atol: 0)
    }

    func testConv2dPointwiseMixesChannels() throws {
        // 1×1 convolution: out[o, p] = Σ_c w[o, c] · x[c, p] + b[o].
        let x = try Tensor(shape: [1, 2, 1, 3], data: [1, 2, 3, 10, 20, 30])
        let w = try Tensor(shape: [3, 2, 1, 1], data: [1, 0, 0, 1, 2, -1])
        let b = try Tensor(shape: [3], data: [0, 0, 100])
        let y = try conv2d(x, weight: w, bias: b)
        XCTAssertEqual(y.shape, [1, 3, 1, 3])
        assertClose(y.toArray(), [1, 2, 3, 10, 20, 30, 92, 84, 76], atol: 0)
    }

    /// Runs `body` with `kernels` behind conv2d, restoring the setting after.
    static func with(_ kernels: ConvolutionKernels, _ body: () throws -> Void) rethrows {
        let saved = ConvolutionKernels.current
        ConvolutionKernels.current = kernels
        defer { ConvolutionKernels.current = saved }
        try body()
    }

    func testConv2dMatchesDirectLoops() throws {
        for kernels in ConvolutionKernels.allCases { try Self.with(kernels) { try conv2dMatchesDirectLoops() } }
    }

    func conv2dMatchesDirectLoops() throws {
        for (n, c) in Self.convCases.enumerated() {
            let x = randomInput([c.batch, c.cin, c.h, c.w], seed: UInt64(10 + n))
            let w = randomInput([c.cout, c.cin, c.kh, c.kw], seed: UInt64(20 + n))
            let b = c.bias ? randomInput([c.cout], seed: UInt64(30 + n)) : nil
            let y = try conv2d(
                x, weight: w, bias: b, stride: (c.stride.0, c.stride.1),
                padding: (c.padding.0, c.padding.1))
            let expected = Self.referenceConv2d(x, w, b, stride: c.stride, padding: c.padding)
            assertClose(y.toArray(), expected, atol: 1e-5, rtol: 1e-5, "case \(n)")
        }
    }

    func testConv2dGradients() throws {
        for kernels in ConvolutionKernels.allCases { try Self.with(kernels) { try conv2dGradients() } }
    }

    func conv2dGradients() throws {
        for (n, c) in Self.convCases.enumerated() {
            let x = randomInput([c.batch, c.cin, c.h, c.w], seed: UInt64(40 + n))
            let w = randomInput([c.cout, c.cin, c.kh, c.kw], seed: UInt64(50 + n), scale: 0.5)
            let b = randomInput([c.cout], seed: UInt64(60 + n))
            let inputs = c.bias ? [x, w, b] : [x, w]
            try checkGradients(inputs) { t in
                try conv2d(
                    t[0], weight: t[1], bias: c.bias ? t[2] : nil, stride: (c.stride.0, c.stride.1),
                    padding: (c.padding.0, c.padding.1))
            }
        }
    }

    func testConv2dInRowPanelsMatchesWholeImage() throws {
        try Self.with(.reverie) { try conv2dInRowPanelsMatchesWholeImage() }
    }

    func conv2dInRowPanelsMatchesWholeImage() throws {
        // A tiny scratch limit splits every image into panels of one or two output rows (as a 512×512 VAE layer is
        // split) and sends batch 2 through the in-order path; values and gradients must not change.
        let saved = Conv2dKernels.scratchLimit
        Conv2dKernels.scratchLimit = 64
        defer { Conv2dKernels.scratchLimit = saved }
        try checkCasesAgainstReference()
    }

    func testShiftedConvolutionMatchesTheReference() throws {
        try Self.with(.reverie) { try shiftedConvolutionMatchesTheReference() }
    }

    func shiftedConvolutionMatchesTheReference() throws {
        // Every stride-1 case through the per-offset GEMMs over the padded input (`ShiftedConvGeometry`), which
        // normally only takes outputs of 16×16 and more.
        let saved = ShiftedConvGeometry.minOutPlane
        ShiftedConvGeometry.minOutPlane = 1
        defer { ShiftedConvGeometry.minOutPlane = saved }
        var shifted = 0
        try checkCasesAgainstReference { geo in
            if ShiftedConvGeometry(geo) != nil { shifted += 1 }
        }
        XCTAssertEqual(shifted, 4)
    }

    /// Every case's values against `referenceConv2d` and its gradients by finite differences; `visit` sees each
    /// case's geometry first.
    func checkCasesAgainstReference(_ visit: (Conv2dGeometry) -> Void = { _ in }) throws {
        for (n, c) in Self.convCases.enumerated() {
            let x = randomInput([c.batch, c.cin, c.h, c.w], seed: UInt64(10 + n))
            let w = randomInput([c.cout, c.cin, c.kh, c.kw], seed: UInt64(20 + n), scale: 0.5)
            let b = randomInput([c.cout], seed: UInt64(30 + n))
            visit(try Conv2dGeometry(input: x.shape, weight: w.shape, bias: nil, stride: c.stride, padding: c.padding))
            let f = { (t: [Tensor]) in
                try conv2d(
                    t[0], weight: t[1], bias: c.bias ? t[2] : nil, stride: (c.stride.0, c.stride.1),
                    padding: (c.padding.0, c.padding.1))
            }
            let expected = Self.referenceConv2d(x, w, c.bias ? b : nil, stride: c.stride, padding: c.padding)
            assertClose(try f([x, w, b]).toArray(), expected, atol: 1e-5, rtol: 1e-5, "case \(n)")
            try checkGradients(c.bias ? [x, w, b] : [x, w], f)
        }
    }

    func testShiftedAndColumnMatrixConvolutionsAgree() throws {
        try Self.with(.reverie) { try shiftedAndColumnMatrixConvolutionsAgree() }
    }

    func shiftedAndColumnMatrixConvolutionsAgree() throws {
        // A decoder-sized layer (32×32, 3×3, 8 → 6 channels, batch 3) both ways: values and all three gradients.
        func run() throws -> [[Float]] {
            let x = randomInput([3, 8, 32, 32], seed: 90)
            let w = randomInput([6, 8, 3, 3], seed: 91, scale: 0.2)
            let b = randomInput([6], seed: 92)
            let y = try conv2d(x, weight: w, bias: b, padding: 1)
            try y.backward(seed: randomInput(y.shape, seed: 93))
            return [y.toArray(), x.grad!.toArray(), w.grad!.toArray(), b.grad!.toArray()]
        }
        let geo = try Conv2dGeometry(
            input: [3, 8, 32, 32], weight: [6, 8, 3, 3], bias: nil, stride: (1, 1),
            padding: (1, 1))
        XCTAssertNotNil(ShiftedConvGeometry(geo))
        let shifted = try run()
        let saved = ShiftedConvGeometry.minOutPlane
        ShiftedConvGeometry.minOutPlane = .max
        defer { ShiftedConvGeometry.minOutPlane = saved }
        XCTAssertNil(ShiftedConvGeometry(geo))
        let columns = try run()
        for (a, b) in zip(shifted, columns) { assertClose(a, b, atol: 1e-4, rtol: 1e-4) }
    }

    func testConv2dFrozenInputStillGivesWeightGradient() throws {
        // An image that needs no gradient (a frozen encoder's input): only dW and db are computed.
        let x = randomInput([2, 2, 4, 4], seed: 70)
        x.requiresGrad = false
        try checkGradients([randomInput([3, 2, 3, 3], seed: 71), randomInput([3], seed: 72)]) { t in
            try conv2d(x, weight: t[0], bias: t[1], padding: 1)
        }
        XCTAssertNil(x.grad)
        XCTAssertFalse(
            withNoGrad { try! conv2d(x, weight: Tensor(zeros: [1, 2, 1, 1], requiresGrad: true), bias: nil) }
                .requiresGrad)
    }

    func testConv2dLargeBatchMatchesItemByItem() throws {
        try Self.with(.reverie) { try conv2dLargeBatchMatchesItemByItem() }
    }

    func conv2dLargeBatchMatchesItemByItem() throws {
        // Big enough that batch items run in order, each GEMM split into concurrent panels, and dW accumulates with
        // beta = 1 (the small cases above take the concurrent-items path for batch 2): each item must match a
        // batch-1 run.
        let x = randomInput([2, 64, 48, 48], seed: 80)
        let w = randomInput([64, 64, 3, 3], seed: 81, scale: 0.05)
        let b = randomInput([64], seed: 82)
        let y = try conv2d(x, weight: w, bias: b, padding: 1)
        let seed = randomInput(y.shape, seed: 83)
        try y.backward(seed: seed)
        let (dx, dw, db) = (x.grad!, w.grad!, b.grad!)
        var dwSum = [Float](repeating: 0, count: w.count), dbSum = [Float](repeating: 0, count: 64)
        for i in 0..<2 {
            let xi = try x.detached().slice(axis: 0, start: i, end: i + 1).copy()
            xi.requiresGrad = true
            w.zeroGrad()
            b.zeroGrad()
            let yi = try conv2d(xi, weight: w, bias: b, padding: 1)
            try yi.backward(seed: try seed.detached().slice(axis: 0, start: i, end: i + 1).copy())
            assertClose(
                yi.toArray(), try y.detached().slice(axis: 0, start: i, end: i + 1).toArray(), atol: 1e-5,
                "output item \(i)")
            assertClose(
                xi.grad!.toArray(), try dx.slice(axis: 0, start: i, end: i + 1).toArray(), atol: 1e-5,
                "dx item \(i)")
            for (j, v) in w.grad!.toArray().enumerated() { dwSum[j] += v }
            for (j, v) in b.grad!.toArray().enumerated() { dbSum[j] += v }
        }
        assertClose(dw.toArray(), dwSum, atol: 1e-3, rtol: 1e-5)
        assertClose(db.toArray(), dbSum, atol: 1e-3, rtol: 1e-5)
    }

    func testConv2dShapeErrorsNameShapes() {
        func expectError(_ fragments: [String], _ body: () throws -> Tensor, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { error in
                let message = "\(error)"
                for f in fragments { XCTAssertTrue(message.contains(f), "\(message) lacks \(f)", line: line) }
            }
        }
        let x = Tensor(zeros: [2, 3, 8, 8]), w = Tensor(zeros: [4, 3, 3, 3])
        expectError(["[3, 8, 8]"]) { try conv2d(Tensor(zeros: [3, 8, 8]), weight: w, bias: nil) }
        expectError(["[4, 3, 3]"]) { try conv2d(x, weight: Tensor(zeros: [4, 3, 3]), bias: nil) }
        expectError(["[2, 3, 8, 8]", "[4, 2, 3, 3]"]) { try conv2d(x, weight: Tensor(zeros: [4, 2, 3, 3]), bias: nil) }
        expectError(["[3]", "[4, 3, 3, 3]"]) { try conv2d(x, weight: w, bias: Tensor(zeros: [3])) }
        expectError(["[2, 3, 8, 8]", "[4, 3, 9, 9]", "≤ 0"]) {
            try conv2d(x, weight: Tensor(zeros: [4, 3, 9, 9]), bias: nil)
        }
        expectError(["stride"]) { try conv2d(x, weight: w, bias: nil, stride: 0) }
        expectError(["padding"]) { try conv2d(x, weight: w, bias: nil, padding: -1) }
    }

    // MARK: - groupNorm

    func testGroupNormHandComputed() throws {
        // Two groups of two channels × two pixels. Group 0 is 1, 2, 3, 4: mean 2.5, variance 1.25, so x̂ is
        // (−1.5, −0.5, 0.5, 1.5) / √1.25. Group 1 is 10, 10, 10, 14: mean 11, variance 3, x̂ = (−1, −1, −1, 3) / √3.
        // Then per channel ·(1, 2, 1, 0.5) + (0, 1, 0, −1).
        let x = try Tensor(shape: [1, 4, 2], data: [1, 2, 3, 4, 10, 10, 10, 14])
        let w = try Tensor(shape: [4], data: [1, 2, 1, 0.5])
        let b = try Tensor(shape: [4], data: [0, 1, 0, -1])
        let r5: Float = 1 / Float(1.25).squareRoot(), r3: Float = 1 / Float(3).squareRoot()
        let expected: [Float] = [
            -1.5 * r5, -0.5 * r5, 0.5 * 2 * r5 + 1, 1.5 * 2 * r5 + 1,
            -r3, -r3, -0.5 * r3 - 1, 1.5 * r3 - 1,
        ]
        assertClose(try groupNorm(x, groups: 2, weight: w, bias: b, eps: 0).toArray(), expected, atol: 1e-6)
        // The same, expanded: −1.3416408, −0.4472136, 1.8944272, 3.6832816, −0.5773503, …, −0.1339746.
        assertClose(
            try groupNorm(x, groups: 2, weight: w, bias: b, eps: 0).toArray(),
            [-1.3416408, -0.4472136, 1.8944272, 3.6832816, -0.5773503, -0.5773503, -1.2886751, -0.1339746],
            atol: 1e-6)
        // Default eps 1e-5 enters as √(var + eps); without affine parameters the result is x̂ itself.
        let r5e: Float = 1 / Float(1.25 + 1e-5).squareRoot(), r3e: Float = 1 / Float(3 + 1e-5).squareRoot()
        assertClose(
            try groupNorm(x, groups: 2, weight: nil, bias: nil).toArray(),
            [-1.5 * r5e, -0.5 * r5e, 0.5 * r5e, 1.5 * r5e, -r3e, -r3e, -r3e, 3 * r3e], atol: 1e-6)
        // One group over everything: mean 6.75; groups == channels normalises each channel alone.
        let whole = try groupNorm(x, groups: 1, weight: nil, bias: nil, eps: 0).toArray()
        XCTAssertEqual(whole.reduce(0, +), 0, accuracy: 1e-5)
        XCTAssertEqual(whole.map { $0 * $0 }.reduce(0, +) / 8, 1, accuracy: 1e-5)
        // Channel 2 is constant: eps keeps it finite (0).
        assertClose(
            try groupNorm(x, groups: 4, weight: nil, bias: nil).toArray(),
            [-1, 1, -1, 1, 0, 0, -1, 1], atol: 1e-4)
    }

    func testGroupNormGradients() throws {
        try checkGradients([
            randomInput([2, 4, 3, 3], seed: 90), randomInput([4], seed: 91),
            randomInput([4], seed: 92),
        ]) { t in
            try groupNorm(t[0], groups: 2, weight: t[1], bias: t[2])
        }
        // Rank 3 ([B, C, L]), three groups, shifted and scaled input.
        try checkGradients(
            [randomInput([1, 6, 5], seed: 93, scale: 2) + 3, randomInput([6], seed: 94)]
                .map { $0.detached().copy() }
        ) { t in
            try groupNorm(t[0], groups: 3, weight: t[1], bias: nil)
        }
        // No affine parameters; one group; a bias alone.
        try checkGradients([randomInput([2, 3, 2, 3], seed: 95)]) { t in
            try groupNorm(t[0], groups: 1, weight: nil, bias: nil)
        }
        try checkGradients([randomInput([2, 4, 7], seed: 96), randomInput([4], seed: 97)]) { t in
            try groupNorm(t[0], groups: 4, weight: nil, bias: t[1])
        }
    }

    func testGroupNormLongGroupsStayAccurate() throws {
        // A large offset over 64K elements per group: blocked sums keep mean and variance exact enough that the
        // output still has mean 0 and variance 1.
        var rng = RNG(seed: 98)
        let x = Tensor.randn([1, 4, 128, 256], rng: &rng) + 1000
        let y = try groupNorm(x, groups: 2, weight: nil, bias: nil, eps: 0).toArray()
        for g in 0..<2 {
            let block = y[(g * 65_536)..<((g + 1) * 65_536)].map(Double.init)
            let mean = block.reduce(0, +) / 65_536
            let variance = block.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 65_536
            XCTAssertEqual(mean, 0, accuracy: 1e-4)
            XCTAssertEqual(variance, 1, accuracy: 1e-4)
        }
    }

    func testGroupNormIsShiftInvariantWithGradients() throws {
        // Normalisation removes a common offset: values and input gradients at x + 1000 match those at x up to the
        // rounding of the shifted input (the kernels subtract the mean before scaling instead of folding it in).
        let x = randomInput([2, 4, 3, 3], seed: 99)
        let shifted = (x.detached() + 1000).detached()
        shifted.requiresGrad = true
        let w = try Tensor(shape: [4], data: [1, -2, 0.5, 3]), b = try Tensor(shape: [4], data: [0, 1, 2, 3])
        let seed = randomInput([2, 4, 3, 3], seed: 100).detached()
        let y = try groupNorm(x, groups: 2, weight: w, bias: b)
        let ys = try groupNorm(shifted, groups: 2, weight: w, bias: b)
        try y.backward(seed: seed)
        try ys.backward(seed: seed)
        assertClose(ys.toArray(), y.toArray(), atol: 1e-3)
        assertClose(shifted.grad!.toArray(), x.grad!.toArray(), atol: 1e-3)
    }

    func testGroupNormShapeErrors() {
        let x = Tensor(zeros: [2, 6, 4, 4])
        XCTAssertThrowsError(try groupNorm(x, groups: 4, weight: nil, bias: nil)) { error in
            XCTAssertTrue("\(error)".contains("[2, 6, 4, 4]") && "\(error)".contains("4 groups"), "\(error)")
        }
        XCTAssertThrowsError(try groupNorm(x, groups: 3, weight: Tensor(zeros: [3]), bias: nil)) { error in
            XCTAssertTrue("\(error)".contains("[3]") && "\(error)".contains("[2, 6, 4, 4]"), "\(error)")
        }
        XCTAssertThrowsError(try groupNorm(Tensor(zeros: [6]), groups: 3, weight: nil, bias: nil)) { error in
            XCTAssertTrue("\(error)".contains("[6]"), "\(error)")
        }
    }

    // MARK: - Pooling and upsampling

    func testUpsampleNearestValuesAndGradients() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4], requiresGrad: true)
        let y = try upsampleNearest(x, scale: 2)
        XCTAssertEqual(y.shape, [1, 1, 4, 4])
        assertClose(y.toArray(), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], atol: 0)
        // dx sums the scale × scale block each input pixel was copied to.
        try y.backward(seed: try Tensor(shape: [1, 1, 4, 4], data: (0..<16).map(Float.init)))
        assertClose(x.grad!.toArray(), [0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13, 10 + 11 + 14 + 15], atol: 0)
        XCTAssertEqual(try upsampleNearest(Tensor(zeros: [2, 3, 2, 5]), scale: 3).shape, [2, 3, 6, 15])
        for scale in [1, 2, 3] {
            try checkGradients([randomInput([2, 3, 2, 3], seed: 100)]) { try upsampleNearest($0[0], scale: scale) }
        }
    }

    func testAvgPool2dValuesAndGradients() throws {
        let x = try Tensor(shape: [1, 1, 4, 4], data: (1...16).map(Float.init))
        // 2×2 blocks of 1…16: (1+2+5+6)/4 = 3.5, then 5.5, 11.5, 13.5.
        assertClose(try avgPool2d(x, kernel: 2).toArray(), [3.5, 5.5, 11.5, 13.5], atol: 0)
        // 3×3 windows, stride 1: the mean of a window of this linear ramp is its centre pixel 6, 7, 10, 11.
        assertClose(try avgPool2d(x, kernel: 3, stride: 1).toArray(), [6, 7, 10, 11], atol: 1e-6)
        // Floor mode: a 3×3 kernel with stride 3 fits once in 4×4.
        assertClose(try avgPool2d(x, kernel: 3).toArray(), [6], atol: 1e-6)
        XCTAssertEqual(try avgPool2d(Tensor(zeros: [2, 3, 7, 9]), kernel: 2, stride: 3).shape, [2, 3, 2, 3])
        for (kernel, stride) in [(2, 2), (3, 1), (2, 3)] {
            try checkGradients([randomInput([2, 2, 5, 7], seed: 110)]) {
                try avgPool2d($0[0], kernel: kernel, stride: stride)
            }
        }
    }

    func testAdaptiveAvgPool2dBinsAndGradients() throws {
        // x[i, j] = 5i + j on 5×5 into 3×3: bins are rows/cols 0..<2, 1..<4, 3..<5 (floor(i·5/3) ..< ceil((i+1)·5/3)),
        // with centres 0.5, 2, 3.5, so each output is 5·rowCentre + colCentre.
        let x = try Tensor(shape: [1, 1, 5, 5], data: (0..<25).map(Float.init))
        assertClose(
            try adaptiveAvgPool2d(x, outputSize: 3).toArray(),
            [3, 4.5, 6, 10.5, 12, 13.5, 18, 19.5, 21], atol: 1e-5)
        // Divisible sizes reduce to plain average pooling; output 1 is the global mean.
        let y = randomInput([2, 3, 6, 8], seed: 120)
        assertClose(try adaptiveAvgPool2d(y, outputSize: (3, 4)), try avgPool2d(y, kernel: 2), atol: 1e-6)
        assertClose(
            try adaptiveAvgPool2d(y, outputSize: 1).toArray(),
            try y.mean(axes: [2, 3]).toArray(), atol: 1e-6)
        // Output larger than input: bins of one pixel, some repeated.
        let small = try Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])
        assertClose(
            try adaptiveAvgPool2d(small, outputSize: 3).toArray(), [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4],
            atol: 1e-6)
        for size in [(3, 3), (2, 4), (6, 4)] {
            try checkGradients([randomInput([2, 2, 5, 7], seed: 121)]) {
                try adaptiveAvgPool2d($0[0], outputSize: (size.0, size.1))
            }
        }
    }

    func testPoolingShapeErrors() {
        let x3 = Tensor(zeros: [3, 4, 4]), x = Tensor(zeros: [1, 2, 3, 5])
        for body in [
            { try upsampleNearest(x3, scale: 2) }, { try avgPool2d(x3, kernel: 2) },
            { try adaptiveAvgPool2d(x3, outputSize: 2) },
        ] {
            XCTAssertThrowsError(try body()) { XCTAssertTrue("\($0)".contains("[3, 4, 4]"), "\($0)") }
        }
        XCTAssertThrowsError(try avgPool2d(x, kernel: 4)) { XCTAssertTrue("\($0)".contains("[1, 2, 3, 5]"), "\($0)") }
        XCTAssertThrowsError(try upsampleNearest(x, scale: 0)) { XCTAssertTrue("\($0)".contains("scale"), "\($0)") }
        XCTAssertThrowsError(try adaptiveAvgPool2d(x, outputSize: 0)) {
            XCTAssertTrue("\($0)".contains("[1, 2, 3, 5]"), "\($0)")
        }
    }

    // MARK: - PyTorch references

    /// `((i·a) mod m − m / 2) / s` for i in 0..<n: exact in Float32 and easy to reproduce in Python.
    static func ramp(_ n: Int, _ a: Int, _ m: Int, _ s: Float) -> [Float] {
        (0..<n).map { Float((($0 * a) % m) - m / 2) / s }
    }

    /// Values produced with PyTorch 2.15.0 (CPU, float32) from the same ramps, e.g.
    /// `x = ramp(80, 7, 11, 4).reshape(2, 2, 5, 4)`, `y = F.conv2d(x, w, b, stride=2, padding=1)`, then
    /// `(y * ramp(y.numel(), 3, 7, 2).reshape(y.shape)).sum().backward()`; likewise `F.group_norm(x, 2, w, b)`,
    /// `F.adaptive_avg_pool2d(x, (3, 4))`, `F.avg_pool2d(x, 3, 2)` and `F.interpolate(x, scale_factor=2)`.
    func testMatchesPyTorchReferences() throws {
        let x = try Tensor(shape: [2, 2, 5, 4], data: Self.ramp(80, 7, 11, 4), requiresGrad: true)
        let w = try Tensor(shape: [3, 2, 3, 3], data: Self.ramp(54, 5, 13, 8), requiresGrad: true)
        let b = try Tensor(shape: [3], data: Self.ramp(3, 1, 3, 2), requiresGrad: true)
        let y = try conv2d(x, weight: w, bias: b, stride: 2, padding: 1)
        XCTAssertEqual(y.shape, [2, 3, 3, 2])
        assertClose(
            y.toArray(),
            [
                0.15625, 1.90625, -1.53125, -0.8125, -0.8125, -0.40625, 1.875, 0.21875, 0.65625, -3.125, 1.6875,
                -1.96875, 1.15625, 0.5625, 0.40625, -2.1875, 2.15625, -1.5, -2, -0.25, -1.1875, 0.65625, 0.65625,
                -2.59375, -2.59375, 0.28125, -1.59375, 2.34375, 0.84375, 0.09375, -1.15625, 2.84375, 0.03125, 0.78125,
                1.4375, 0.75,
            ])
        try y.backward(seed: try Tensor(shape: y.shape, data: Self.ramp(y.count, 3, 7, 2)))
        assertClose(
            x.grad!.toArray(),
            [
                -0.0625, -0.75, -0.0625, -0.6875, -0.1875, 2, -0.625, 1.8125, 0.375, -0.3125, -0.0625, 0.5625, -0.1875,
                -0.625, 0.25, -1.0625, -0.0625, 1.4375, -0.0625, -0.375, 0.875, 0.25, -0.8125, 0.1875, 1.5625, -0.3125,
                1, -0.625, -2.0625, 0.4375, 1.5, -0.3125, 1.3125, -0.375, -1, 0.125, -0.1875, -0.6875, 1.1875, 0.0625,
                -0.0625, 1.4375, -0.0625, -0.375, 0.25, 2, 0.25, -1.3125, -0.0625, 1.4375, -0.0625, -1.3125, 0.25,
                -0.625, -0.1875, 0.1875, -0.0625, -0.3125, 0.375, 0.375, -0.1875, -0.6875, 1.1875, 0.0625, -1.125,
                -0.4375, -0.8125, 0.875, -0.5, -0.5, 0.875, 0.4375, -0.9375, -0.0625, 1.5625, 0.3125, -0.8125, 0.5625,
                -2.0625, 0.375,
            ])
        assertClose(
            w.grad!.toArray(),
            [
                1.25, -1.125, -5.375, 0, -0.5, 2.25, -1.375, -1.125, 1.75, 1, -0.875, 1.75, -5, 2.25, 2.25, 0.875,
                4.125,
                -5.375, -1.375, 5, -0.5, 0, 0.375, -3.25, 1.25, 1.5, -0.375, 0.5, -1.875, -0.5, 2.25, 0.75, -0.125, -4,
                -3, 2, -1.375, -1.125, 1.75, 1.75, -1.375, -1.75, -1.375, -2.875, 3.625, 0.875, 4.125, -5.375, -0.125,
                -3.375, 4.5, 0.75, 4.75, -1.125,
            ])
        assertClose(b.grad!.toArray(), [0, -0.5, -1])

        let gx = try Tensor(shape: [2, 4, 3], data: Self.ramp(24, 5, 9, 2), requiresGrad: true)
        let gw = try Tensor(shape: [4], data: Self.ramp(4, 3, 7, 4), requiresGrad: true)
        let gb = try Tensor(shape: [4], data: Self.ramp(4, 2, 5, 8), requiresGrad: true)
        let gy = try groupNorm(gx, groups: 2, weight: gw, bias: gb)
        assertClose(
            gy.toArray(),
            [
                0.7481128, -0.6777626, 0.4629377, 0, 0, 0, 0.1074125, 1.533288, 0.3925875, 0.2077043, -0.2675875,
                0.1126459, -0.5971811, 0.7915431, -0.9443621, 0, 0, 0, -0.7481128, 0.6777626, -0.4629377, -0.3626459,
                0.01758754, -0.4577043,
            ])
        try gy.backward(seed: try Tensor(shape: gy.shape, data: Self.ramp(gy.count, 3, 7, 2)))
        assertClose(
            gx.grad!.toArray(),
            [
                0.7833729, 0.03092243, -0.9070626, 0.05153738, -0.03092243, 0.07215233, 0.4149738, -0.4394078,
                0.1870625,
                -0.3271676, 0.3393846, -0.1748455, 0.3265167, -0.1694609, 0.5373064, 0.04132873, -0.6406282,
                -0.09506266,
                0.1981356, -0.4787284, 0.005727735, 0.4695641, -0.1866801, -0.008018839,
            ])
        assertClose(gw.grad!.toArray(), [-1.975644, -0.06191882, -5.038094, -2.661634])
        assertClose(gb.grad!.toArray(), [-2, 0.5, -0.5, 2])

        let p = try Tensor(shape: [1, 2, 5, 7], data: Self.ramp(70, 7, 11, 4))
        assertClose(
            try adaptiveAvgPool2d(p, outputSize: (3, 4)).toArray(),
            [
                -0.4375, 0.125, -0.04166667, 0.0625, -0.1666667, -0.1388889, 0, -0.125, -0.125, -0.25, 0.04166667,
                -0.3125, 0.3125, -0.04166667, 0.25, 0.125, 0.125, 0, 0.1388889, 0.1666667, -0.0625, 0.04166667, -0.125,
                0.4375,
            ])
        assertClose(
            try avgPool2d(p, kernel: 3, stride: 2).toArray(),
            [
                -0.08333334, 0.05555556, -0.1111111, -0.02777778, 0.1111111, -0.05555556, 0.05555556, -0.1111111,
                0.02777778, 0.1111111, -0.05555556, 0.08333334,
            ])
        // Channel 0, output rows 0 and 1 (both copies of input row 0).
        assertClose(
            Array(try upsampleNearest(p, scale: 2).toArray()[0..<28]),
            [
                -1.25, -1.25, 0.5, 0.5, -0.5, -0.5, 1.25, 1.25, 0.25, 0.25, -0.75, -0.75, 1, 1, -1.25, -1.25, 0.5, 0.5,
                -0.5, -0.5, 1.25, 1.25, 0.25, 0.25, -0.75, -0.75, 1, 1,
            ], atol: 0)
    }
}
