import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

/// A small two-level tree: `Stack` holds `embed`, `layers.<i>` (each an attention block with an MLP) and `norm`.
final class TinyBlock: Module {
    let norm: RMSNorm
    let attn: MultiHeadAttention
    let mlp: MLP

    init(dim: Int, rng: inout RNG) throws {
        norm = try RMSNorm(dim: dim)
        attn = try MultiHeadAttention(dim: dim, heads: 2, rng: &rng)
        mlp = try MLP(dim: dim, hidden: 2 * dim, rng: &rng)
    }

    override func visit(_ v: inout ModuleVisitor) {
        v.child("norm", norm)
        v.child("attn", attn)
        v.child("mlp", mlp)
    }
}

final class TinyStack: Module {
    let embed: Embedding
    let layers: [TinyBlock]
    let norm: LayerNorm
    let scaleBuffer = Tensor(repeating: 2, shape: [1])

    init(rng: inout RNG) throws {
        embed = try Embedding(count: 5, dim: 4, rng: &rng)
        layers = try (0..<2).map { _ in try TinyBlock(dim: 4, rng: &rng) }
        norm = try LayerNorm(dim: 4)
    }

    override func visit(_ v: inout ModuleVisitor) {
        v.child("embed", embed)
        v.children("layers", layers)
        v.child("norm", norm)
        v.buffer("scale", scaleBuffer)
    }
}

final class ModuleTests: XCTestCase {
    func makeStack(seed: UInt64 = 1) throws -> TinyStack {
        var rng = RNG(seed: seed)
        return try TinyStack(rng: &rng)
    }

    func testNestedKeysAreDottedInVisitOrder() throws {
        let model = try makeStack()
        var expected = ["embed.weight"]
        for i in 0..<2 {
            expected += ["layers.\(i).norm.weight"]
            expected += ["q_proj", "k_proj", "v_proj", "o_proj"].map { "layers.\(i).attn.\($0).weight" }
            expected += ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"].map { "layers.\(i).mlp.\($0)" }
        }
        expected += ["norm.weight", "norm.bias"]
        XCTAssertEqual(model.namedParameters().map(\.0), expected)
        XCTAssertEqual(model.namedBuffers().map(\.0), ["scale"])
        XCTAssertEqual(Set(model.stateDict().keys), Set(expected + ["scale"]))
        XCTAssertEqual(model.stateDict()["layers.1.attn.q_proj.weight"]?.shape, [4, 4])
        XCTAssertEqual(model.stateDict()["layers.0.mlp.fc1.weight"]?.shape, [8, 4])
        XCTAssertTrue(model.module(at: "layers.1.attn") === model.layers[1].attn)
        XCTAssertNil(model.module(at: "layers.2"))
        let perBlock = 4 + 4 * 16 + (8 * 4 + 8 + 4 * 8 + 4)
        XCTAssertEqual(model.parameterCount, 5 * 4 + 2 * perBlock + 8)
    }

    func testProjectionNamePresets() throws {
        var rng = RNG(seed: 3)
        let clip = try MultiHeadAttention(dim: 4, heads: 1, bias: true, names: .clip, rng: &rng)
        XCTAssertEqual(clip.namedParameters().map(\.0).suffix(2), ["out_proj.weight", "out_proj.bias"])
        let unet = try MultiHeadAttention(dim: 4, heads: 1, outputBias: true, names: .diffusers, rng: &rng)
        XCTAssertEqual(
            unet.namedParameters().map(\.0),
            ["to_q.weight", "to_k.weight", "to_v.weight", "to_out.0.weight", "to_out.0.bias"])
    }

    func testTiedWeightsAreOneParameterButTwoStateKeys() throws {
        final class Tied: Module {
            let embed: Embedding, head: Tensor
            init(seed: UInt64) throws {
                var rng = RNG(seed: seed)
                embed = try Embedding(count: 3, dim: 2, rng: &rng)
                head = embed.weight
            }
            override func visit(_ v: inout ModuleVisitor) {
                v.child("embed_tokens", embed)
                v.parameter("lm_head", head)
            }
        }
        let m = try Tied(seed: 1)
        XCTAssertEqual(m.namedParameters().map(\.0), ["embed_tokens.weight"])
        XCTAssertEqual(Set(m.stateDict().keys), ["embed_tokens.weight", "lm_head"])
        XCTAssertEqual(m.parameterCount, 6)
    }

    func testStateDictRoundTripCopiesInPlace() throws {
        let a = try makeStack(seed: 1), b = try makeStack(seed: 2)
        let weightBefore = b.layers[0].attn.qProj.weight
        XCTAssertNotEqual(a.layers[0].attn.qProj.weight.toArray(), weightBefore.toArray())
        let report = try b.loadStateDict(a.stateDict())
        XCTAssertTrue(report.isExact)
        XCTAssertEqual(report.loaded, a.stateDict().count)
        XCTAssertTrue(b.layers[0].attn.qProj.weight === weightBefore, "load keeps tensor identity")
        for (key, t) in a.stateDict() { XCTAssertEqual(b.stateDict()[key]?.toArray(), t.toArray(), key) }
    }

    func testStrictLoadNamesEveryMissingUnexpectedAndMisShapedKey() throws {
        let model = try makeStack()
        var state = model.stateDict()
        state["layers.0.attn.q_proj.weight"] = nil
        state["norm.bias"] = nil
        state["layers.0.attn.out_proj.weight"] = Tensor(zeros: [4, 4])
        state["layers.1.mlp.fc1.weight"] = Tensor(zeros: [4, 8])
        let before = model.layers[0].mlp.fc2.weight.toArray()
        state["layers.0.mlp.fc2.weight"] = Tensor(repeating: 9, shape: [4, 8])
        XCTAssertThrowsError(try model.loadStateDict(state)) { error in
            guard case let ModuleError.stateDictMismatch(report) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(report.missing, ["layers.0.attn.q_proj.weight", "norm.bias"])
            XCTAssertEqual(report.unexpected, ["layers.0.attn.out_proj.weight"])
            XCTAssertEqual(report.misShaped, [.init(key: "layers.1.mlp.fc1.weight", expected: [8, 4], found: [4, 8])])
            let text = "\(error)"
            for key in [
                "layers.0.attn.q_proj.weight", "norm.bias", "layers.0.attn.out_proj.weight",
                "layers.1.mlp.fc1.weight", "[8, 4]", "[4, 8]",
            ] {
                XCTAssertTrue(text.contains(key), "message lacks \(key): \(text)")
            }
        }
        XCTAssertEqual(model.layers[0].mlp.fc2.weight.toArray(), before, "a failed load writes nothing")
    }

    func testNonStrictLoadReportsAndLoadsTheRest() throws {
        let model = try makeStack()
        var state = model.stateDict().mapValues { Tensor(repeating: 0.5, shape: $0.shape) }
        state["norm.weight"] = nil
        state["extra.weight"] = Tensor(zeros: [1])
        let report = try model.loadStateDict(state, strict: false)
        XCTAssertEqual(report.missing, ["norm.weight"])
        XCTAssertEqual(report.unexpected, ["extra.weight"])
        XCTAssertEqual(model.layers[1].mlp.fc2.bias?.toArray(), [0.5, 0.5, 0.5, 0.5])
        XCTAssertEqual(model.norm.weight?.toArray(), [1, 1, 1, 1])
        // Shape mismatches are errors even when not strict, as in PyTorch.
        state["norm.bias"] = Tensor(zeros: [5])
        XCTAssertThrowsError(try model.loadStateDict(state, strict: false))
    }

    func testFreezeAndUnfreezeByWholeComponentPrefix() throws {
        let model = try makeStack()
        XCTAssertEqual(try model.freeze(prefix: "layers.1"), 9)
        let frozen = model.namedParameters().filter { !$0.1.requiresGrad }.map(\.0)
        XCTAssertTrue(frozen.allSatisfy { $0.hasPrefix("layers.1.") })
        XCTAssertEqual(frozen.count, 9)
        XCTAssertEqual(model.trainableParameters().count, model.namedParameters().count - 9)
        // "layers.1" must not match "layers.10…"; "norm" matches only the top-level norm.
        XCTAssertTrue(keyHasPrefix("layers.1.norm.weight", "layers.1"))
        XCTAssertFalse(keyHasPrefix("layers.10.norm.weight", "layers.1"))
        XCTAssertFalse(keyHasPrefix("norm_out.weight", "norm"))
        XCTAssertEqual(try model.freeze(prefix: "norm"), 2)
        XCTAssertThrowsError(try model.freeze(prefix: "layer")) { error in
            XCTAssertTrue("\(error)".contains("embed, layers, norm"), "\(error)")
        }
        try model.unfreeze(prefix: "layers.1.attn.q_proj")
        XCTAssertTrue(model.layers[1].attn.qProj.weight.requiresGrad)
        XCTAssertFalse(model.layers[1].attn.kProj.weight.requiresGrad)
        try model.unfreeze()
        XCTAssertEqual(model.trainableParameterCount, model.parameterCount)
        try model.freeze()
        XCTAssertEqual(model.trainableParameterCount, 0)
    }

    func testTrainEvalPropagatesToDropout() throws {
        final class WithDropout: Module {
            let inner: Dropout
            init(p: Float) throws { inner = try Dropout(p: p, generator: SharedRNG(seed: 9)) }
            override func visit(_ v: inout ModuleVisitor) { v.child("drop", inner) }
        }
        let m = try WithDropout(p: 0.5)
        let x = Tensor(repeating: 1, shape: [64])
        XCTAssertTrue(m.inner.isTraining)
        let dropped = try m.inner(x).toArray()
        XCTAssertTrue(dropped.contains(0) && dropped.contains(2), "training mode drops and rescales")
        m.eval()
        XCTAssertFalse(m.inner.isTraining)
        XCTAssertEqual(try m.inner(x).toArray(), x.toArray())
        m.train()
        XCTAssertTrue(m.inner.isTraining)
    }

    func testDropoutStreamRestoresFromSavedState() throws {
        let generator = SharedRNG(seed: 5)
        let drop = try Dropout(p: 0.3, generator: generator)
        let x = Tensor(repeating: 1, shape: [32])
        _ = try drop(x)
        let saved = generator.stateWords
        let next = try drop(x).toArray()
        try generator.restore(stateWords: saved)
        XCTAssertEqual(try drop(x).toArray(), next)
        XCTAssertThrowsError(try generator.restore(stateWords: [0, 0, 0, 0]))
    }

    func testZeroGradClearsAllParameters() throws {
        var rng = RNG(seed: 4)
        let mlp = try MLP(dim: 3, hidden: 5, rng: &rng)
        try mlp(randomInput([2, 3], seed: 1)).sum().backward()
        XCTAssertTrue(mlp.parameters().allSatisfy { $0.grad != nil })
        mlp.zeroGrad()
        XCTAssertTrue(mlp.parameters().allSatisfy { $0.grad == nil })
    }

    func testInvalidConfigurationsThrow() {
        var rng = RNG(seed: 1)
        XCTAssertThrowsError(try Linear(inFeatures: 0, outFeatures: 3, rng: &rng))
        XCTAssertThrowsError(try MultiHeadAttention(dim: 6, heads: 4, rng: &rng))
        XCTAssertThrowsError(try MultiHeadAttention(dim: 8, heads: 4, kvHeads: 3, rng: &rng))
        XCTAssertThrowsError(try MultiHeadAttention(dim: 8, heads: 2, rope: try RotaryEmbedding(dim: 2), rng: &rng))
        XCTAssertThrowsError(try Dropout(p: 1, generator: SharedRNG(seed: 1)))
    }
}

final class KeyOrderTests: XCTestCase {
    func testReportsListKeysInNaturalOrder() throws {
        var rng = RNG(seed: 1)
        let model = try TinyStack(rng: &rng)
        var state: [String: Tensor] = [:]
        for key in ["layers.10.w", "layers.2.w", "layers.2", "a.weight", "layers.1.w"] {
            state[key] = Tensor(zeros: [1])
        }
        let report = try model.loadStateDict(state, strict: false)
        XCTAssertEqual(report.unexpected, ["a.weight", "layers.1.w", "layers.2", "layers.2.w", "layers.10.w"])
    }
}
