import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

final class GradientBufferTests: XCTestCase {
    func makeModel() throws -> MLP {
        var rng = RNG(seed: 51)
        return try MLP(dim: 3, hidden: 4, outDim: 2, rng: &rng)
    }

    func testGatherScatterRoundTripsInParameterOrder() throws {
        let model = try makeModel()
        let buffer = GradientBuffer(parameters: model.trainableParameters())
        XCTAssertEqual(buffer.count, model.parameterCount)
        XCTAssertEqual(buffer.entries.map(\.key), ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        XCTAssertEqual(buffer.entries.map(\.range), [0..<12, 12..<16, 16..<24, 24..<26])
        try model(randomInput([5, 3], seed: 1)).square().sum().backward()
        let grads = model.parameters().map { $0.grad!.toArray() }
        buffer.gather()
        XCTAssertEqual(Array(buffer.values), grads.flatMap { $0 })
        // Stand-in for an all-reduce over two identical ranks followed by averaging.
        for i in buffer.values.indices { buffer.values[i] *= 2 }
        buffer.scale(by: 0.5)
        model.fc2.bias!.grad = nil  // a parameter this rank never reached gets a gradient back
        buffer.scatter()
        XCTAssertEqual(model.parameters().map { $0.grad!.toArray() }, grads)
        XCTAssertEqual(buffer.buckets(maxElements: 10), [0..<10, 10..<20, 20..<26])
    }

    func testMissingGradientsGatherAsZeros() throws {
        let model = try makeModel()
        let buffer = GradientBuffer(parameters: model.namedParameters())
        buffer.values.update(repeating: 7)
        buffer.gather()
        XCTAssertTrue(buffer.values.allSatisfy { $0 == 0 })
    }

    func testBoundGradientsAccumulateStraightIntoTheBuffer() throws {
        let model = try makeModel(), twin = try makeModel()
        let buffer = GradientBuffer(parameters: model.namedParameters())
        buffer.bind()
        let x = randomInput([5, 3], seed: 2)
        for _ in 0..<2 { try model(x).square().sum().backward() }  // accumulates twice
        try twin(x).square().sum().backward()
        let expected = twin.parameters().flatMap { $0.grad!.toArray().map { 2 * $0 } }
        assertClose(Array(buffer.values), expected, atol: 1e-5)
        XCTAssertTrue(model.fc1.weight.grad!.storage === buffer.flat.storage, "grad is a view, not a copy")
        buffer.zero()
        XCTAssertTrue(model.fc2.weight.grad!.toArray().allSatisfy { $0 == 0 })
        try model(x).square().sum().backward()
        assertClose(Array(buffer.values), expected.map { $0 / 2 }, atol: 1e-5)
    }
}
