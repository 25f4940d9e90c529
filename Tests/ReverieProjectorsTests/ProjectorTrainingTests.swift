import ReverieCore
import ReverieNN
import XCTest

@testable import ReverieProjectors

/// Every registered projector builds from its typed options, has the advertised output shape, and trains: fitting
/// a small random target, the loss falls at least 10×.
final class ProjectorTrainingTests: XCTestCase {
    struct Spec {
        var type: String
        var options: any ProjectorOptions
    }

    static let dimensions = ProjectorDimensions(inputDim: 20, outputDim: 8, patches: 16)
    static let specs: [Spec] = [
        Spec(type: "linear", options: NoProjectorOptions()),
        Spec(type: "mlp", options: MLPProjector.Options(depth: 3)),
        Spec(type: "qformer", options: QFormerProjector.Options(queries: 4, depth: 2, heads: 2, width: 16)),
        Spec(type: "resampler", options: ResamplerProjector.Options(queries: 4, depth: 1, heads: 2, width: 16)),
        Spec(type: "pool", options: PoolProjector.Options(grid: 2)),
    ]

    static func make(_ spec: Spec, rng: inout RNG) throws -> any Projector {
        try ProjectorRegistry.make(type: spec.type, options: spec.options, dimensions: dimensions, rng: &rng)
    }

    func testEveryKindIsRegisteredAndTested() {
        XCTAssertEqual(ProjectorRegistry.kinds, Self.specs.map(\.type).sorted())
    }

    func testShapes() throws {
        var rng = RNG(seed: 1)
        let features = Tensor.randn([2, 16, 20], rng: &rng)
        for spec in Self.specs {
            let projector = try Self.make(spec, rng: &rng)
            let out = try projector(features)
            XCTAssertEqual(out.shape, [2, projector.outputTokens(patches: 16), 8], spec.type)
            XCTAssertEqual(projector.outputDim, 8)
        }
    }

    func testEveryProjectorFitsARandomTarget() throws {
        for spec in Self.specs {
            var rng = RNG(seed: 7)
            let projector = try Self.make(spec, rng: &rng)
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

    func testOptionErrorsNameTheirKey() throws {
        var rng = RNG(seed: 1)
        let dims = ProjectorDimensions(inputDim: 4, outputDim: 4, patches: 4)
        XCTAssertThrowsError(try ProjectorRegistry.make(type: "nope", dimensions: dims, rng: &rng)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.key, "type")
            XCTAssertTrue(String(describing: error).contains("qformer"), "\(error)")
        }
        XCTAssertThrowsError(
            try ProjectorRegistry.make(
                type: "mlp", options: MLPProjector.Options(depth: 0), dimensions: dims, rng: &rng)
        ) { error in
            XCTAssertEqual((error as? ConfigurationError)?.key, "depth")
        }
        XCTAssertThrowsError(
            try ProjectorRegistry.make(
                type: "pool", options: PoolProjector.Options(grid: 2),
                dimensions: ProjectorDimensions(inputDim: 4, outputDim: 4, patches: 15), rng: &rng)
        ) { error in
            XCTAssertEqual((error as? ConfigurationError)?.key, "grid")
        }
        XCTAssertThrowsError(
            try ProjectorRegistry.make(
                type: "resampler", options: ResamplerProjector.Options(heads: 3), dimensions: dims, rng: &rng)
        ) { error in
            XCTAssertEqual((error as? ConfigurationError)?.key, "heads")
        }
    }

    /// A new kind is one type and one registration: this toy projector (a fixed scale, no parameters but one)
    /// registers, builds from its own options and runs, and leaves the registry as it was.
    func testAToyProjectorRegistersInOneLine() throws {
        ProjectorRegistry.register(ScaleProjector.self)
        defer { ProjectorRegistry.shared.unregister(ScaleProjector.kind) }
        XCTAssertTrue(ProjectorRegistry.kinds.contains("scale"))
        var rng = RNG(seed: 1)
        var options = ScaleProjector.Options()
        options.factor = 3
        let projector = try ProjectorRegistry.make(
            type: "scale", options: options,
            dimensions: ProjectorDimensions(inputDim: 2, outputDim: 2, patches: 1),
            rng: &rng)
        XCTAssertEqual(try projector(Tensor(shape: [1, 1, 2], data: [1, 2])).toArray(), [3, 6])
    }
}

/// The toy projector of `testAToyProjectorRegistersInOneLine`: tokens × `factor` (needs Dv = D).
final class ScaleProjector: Module, Projector {
    static let kind = "scale"
    struct Options: ProjectorOptions {
        var factor: Float = 2
        init() {}
        init(from decoder: Decoder) throws { try decoder.container(keyedBy: CodingKeys.self).update(&factor, .factor) }
        func validate(dimensions: ProjectorDimensions) throws {
            try require(dimensions.inputDim == dimensions.outputDim, "type", "needs equal widths")
        }
    }

    let factor: Tensor
    let outputDim: Int
    init(options: Options, dimensions: ProjectorDimensions, rng: inout RNG) throws {
        factor = try Tensor(shape: [1], data: [options.factor])
        outputDim = dimensions.outputDim
    }

    override func visit(_ v: inout ModuleVisitor) { v.parameter("factor", factor) }
    func outputTokens(patches: Int) -> Int { patches }
    func callAsFunction(_ features: Tensor) throws -> Tensor { try features * factor }
}
