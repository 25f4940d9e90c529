import ReverieCore
import ReverieNN
import XCTest

@testable import ReverieProjectors

/// Every registered projector builds from a spec, has the advertised output shape, and trains: fitting a small
/// random target, the loss falls at least 10×.
final class ProjectorTrainingTests: XCTestCase {
    static let specs: [ProjectorSpec] = [
        ProjectorSpec(type: "linear", inputDim: 20, outputDim: 8, patches: 16),
        ProjectorSpec(type: "mlp", inputDim: 20, outputDim: 8, patches: 16, options: ["depth": .int(3)]),
        ProjectorSpec(type: "qformer", inputDim: 20, outputDim: 8, patches: 16,
                      options: ["queries": .int(4), "depth": .int(2), "width": .int(16), "heads": .int(2)]),
        ProjectorSpec(type: "resampler", inputDim: 20, outputDim: 8, patches: 16,
                      options: ["queries": .int(4), "depth": .int(1), "heads": .int(2), "width": .int(16)]),
        ProjectorSpec(type: "pool", inputDim: 20, outputDim: 8, patches: 16, options: ["grid": .int(2)]),
    ]

    func testEveryKindIsRegisteredAndTested() {
        XCTAssertEqual(ProjectorRegistry.kinds, Self.specs.map(\.type).sorted())
    }

    func testShapes() throws {
        var rng = RNG(seed: 1)
        let features = Tensor.randn([2, 16, 20], rng: &rng)
        for spec in Self.specs {
            let projector = try ProjectorRegistry.make(spec, rng: &rng)
            let out = try projector(features)
            XCTAssertEqual(out.shape, [2, projector.outputTokens(patches: 16), 8], spec.type)
            XCTAssertEqual(projector.outputDim, 8)
        }
    }

    func testEveryProjectorFitsARandomTarget() throws {
        for spec in Self.specs {
            var rng = RNG(seed: 7)
            let projector = try ProjectorRegistry.make(spec, rng: &rng)
            // One image: 16 patch rows of width 20, so even the linear kind can fit a random target exactly.
            let features = Tensor.randn([1, 16, 20], rng: &rng)
            let target = Tensor.randn([1, projector.outputTokens(patches: 16), 8], rng: &rng)
            let optimizer = try AdamW(parameters: projector.namedParameters(), lr: 1e-2, weightDecay: 0)
            var first: Float = 0, last: Float = 0
            for step in 0..<200 {
                optimizer.zeroGrad()
                let loss = try mseLoss(projector(features), target)
                try loss.backward()
                optimizer.step()
                if step == 0 { first = try loss.item() }
                last = try loss.item()
            }
            print("projector \(spec.type): loss \(first) → \(last) (\(first / last)×)")
            XCTAssertGreaterThanOrEqual(first / last, 10, spec.type)
        }
    }

    func testSpecErrors() throws {
        var rng = RNG(seed: 1)
        XCTAssertThrowsError(try ProjectorRegistry.make(
            ProjectorSpec(type: "nope", inputDim: 4, outputDim: 4, patches: 4), rng: &rng)) { error in
            XCTAssertTrue(String(describing: error).contains("qformer"), "\(error)")
        }
        XCTAssertThrowsError(try ProjectorRegistry.make(
            ProjectorSpec(type: "mlp", inputDim: 4, outputDim: 4, patches: 4, options: ["deepth": .int(2)]),
            rng: &rng)) { error in
            XCTAssertTrue(String(describing: error).contains("'deepth'"), "\(error)")
            XCTAssertTrue(String(describing: error).contains("depth"), "\(error)")
        }
        XCTAssertThrowsError(try ProjectorRegistry.make(
            ProjectorSpec(type: "pool", inputDim: 4, outputDim: 4, patches: 15, options: ["grid": .int(2)]),
            rng: &rng))
    }
}
