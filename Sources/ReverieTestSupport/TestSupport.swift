import ReverieCore
import XCTest

/// Asserts two arrays agree elementwise within `atol + rtol·|expected|`, reporting the worst element.
public func assertClose(
    _ actual: [Float], _ expected: [Float], atol: Float = 1e-5, rtol: Float = 1e-5,
    _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    guard actual.count == expected.count else {
        XCTFail("count \(actual.count) ≠ \(expected.count) \(message)", file: file, line: line)
        return
    }
    var worst = 0, worstExcess: Float = -1
    for i in actual.indices {
        let excess = Swift.abs(actual[i] - expected[i]) - (atol + rtol * Swift.abs(expected[i]))
        if excess > worstExcess || actual[i].isNaN {
            worst = i
            worstExcess = actual[i].isNaN ? .infinity : excess
        }
    }
    if worstExcess > 0 {
        XCTFail(
            "element \(worst): \(actual[worst]) vs expected \(expected[worst]) (atol \(atol), rtol \(rtol)) \(message)",
            file: file, line: line)
    }
}

/// Asserts a tensor's shape and values.
public func assertClose(
    _ actual: Tensor, _ expected: Tensor, atol: Float = 1e-5, rtol: Float = 1e-5,
    _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.shape, expected.shape, "shape \(message)", file: file, line: line)
    assertClose(actual.toArray(), expected.toArray(), atol: atol, rtol: rtol, message, file: file, line: line)
}

/// Largest absolute difference between two equally long arrays.
public func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
}

/// Compares the autodiff gradients of `f` at `inputs` with central finite differences.
///
/// The scalar probed is Σ f(x) ⊙ w for a fixed random `w`, so every output element contributes. Inputs must be
/// leaves with `requiresGrad = true`. Differences are taken in Float32, so tolerances are loose by design.
public func checkGradients(
    _ inputs: [Tensor], eps: Float = 1e-2, atol: Float = 2e-2, rtol: Float = 2e-2,
    seed: UInt64 = 7, file: StaticString = #filePath, line: UInt = #line,
    _ f: ([Tensor]) throws -> Tensor
) throws {
    for x in inputs {
        x.zeroGrad()
        x.requiresGrad = true
    }
    let probe = try f(inputs)
    var rng = RNG(seed: seed)
    let w = Tensor.randn(probe.shape, rng: &rng)
    try (probe * w).sum().backward()
    func objective() throws -> Double {
        let y = try withNoGrad { try f(inputs) }
        return zip(y.toArray(), w.toArray()).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    for (n, x) in inputs.enumerated() {
        guard let grad = x.grad else {
            XCTFail("input \(n) received no gradient", file: file, line: line)
            continue
        }
        var numeric = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count {
            let saved = x.pointer[i]
            x.pointer[i] = saved + eps
            let up = try objective()
            x.pointer[i] = saved - eps
            let down = try objective()
            x.pointer[i] = saved
            numeric[i] = Float((up - down) / Double(2 * eps))
        }
        assertClose(grad.toArray(), numeric, atol: atol, rtol: rtol, "gradient of input \(n)", file: file, line: line)
    }
}

/// A tensor of normal values from a fixed seed, requiring a gradient (for gradient checks).
public func randomInput(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = RNG(seed: seed)
    return Tensor.randn(shape, std: scale, rng: &rng, requiresGrad: true)
}
