import ReverieCore
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieMultimodal

/// The padded batch forward, learned visual positions, residual output and object-weighted regression.
final class BatchedForwardTests: XCTestCase {
    func examples() -> [MultimodalExample] {
        [
            MultimodalExample(
                tokens: [TinyVocab.image, 5, 6, 7, 8, 9, TinyVocab.eos], lossMask: [0, 1, 1, 1, 1, 1, 1],
                inputImages: [tinyImage(seed: 1)]),
            MultimodalExample(
                tokens: [5, 6, TinyVocab.imageBegin], lossMask: [0, 0, 1], targetImages: [tinyImage(seed: 2)]),
            MultimodalExample(
                tokens: [TinyVocab.image, 7, TinyVocab.imageBegin], lossMask: [0, 0, 1],
                inputImages: [tinyImage(seed: 3)], targetImages: [tinyImage(seed: 4)]),
        ]
    }

    func testPaddedBatchEqualsOneForwardPerExample() throws {
        let model = try makeTinyModel(visualPositions: .token, residual: true)
        let exs = examples()
        let batched = try model.forward(batch: exs)
        // lengths differ: padding was sliced off
        XCTAssertEqual(try batched.map { try XCTUnwrap($0.logits).shape[1] }, [22, 7, 22])
        for (ex, b) in zip(exs, batched) {
            let one = try model.forward(ex)
            XCTAssertEqual(b.targets, one.targets)
            XCTAssertEqual(b.outputStarts, one.outputStarts)
            assertClose(try XCTUnwrap(b.logits), try XCTUnwrap(one.logits), atol: 1e-4)
            if let c = one.conditions { assertClose(try XCTUnwrap(b.conditions), c, atol: 1e-4) }
        }
        // The losses of the batch: gradients reach the visual positions.
        let l = try model.losses(exs)
        // The loss applies the head at the text targets alone: its cross-entropy is the mean over every text target
        // of the full logits.
        var rows: [Tensor] = [], targets: [Int] = []
        for ex in exs {
            let out = try model.forward(ex)
            let logits = try XCTUnwrap(out.logits).reshape([out.targets.count, 40])
            for (p, t) in out.targets.enumerated() where t != -100 {
                rows.append(try logits.slice(axis: 0, start: p, end: p + 1))
                targets.append(t)
            }
        }
        XCTAssertEqual(targets.count, 8)
        XCTAssertEqual(
            try l.crossEntropy.item(), try crossEntropy(concat(rows, axis: 0), targets: targets).item(),
            accuracy: 1e-5)
        XCTAssertNil(try model.forward(batch: exs, logits: false)[0].logits)
        try l.total.backward()
        XCTAssertGreaterThan(try XCTUnwrap(model.visualPositions?.table?.grad).toArray().map(abs).max() ?? 0, 0)
    }

    func testLengthGroupsSeparateLongSequencesFromShortOnes() {
        // Equal or close lengths stay one padded pass; the two long sequences get their own.
        XCTAssertEqual(MultimodalModel.lengthGroups([80, 80, 80]), [[0, 1, 2]])
        XCTAssertEqual(MultimodalModel.lengthGroups([22, 7, 22]), [[1, 0, 2]])
        XCTAssertEqual(
            MultimodalModel.lengthGroups([85, 300, 82, 84, 86, 83, 81, 290, 85, 84]),
            [[6, 2, 5, 3, 9, 0, 8, 4], [7, 1]])
        XCTAssertEqual(MultimodalModel.lengthGroups([5]), [[0]])
        XCTAssertEqual(MultimodalModel.lengthGroups([]), [])
        // Without a per-pass overhead every distinct length is its own group.
        XCTAssertEqual(MultimodalModel.lengthGroups([3, 1, 2, 1], overhead: 0).count, 3)
    }

    func testGroupedBatchEqualsOneForwardPerExample() throws {
        let model = try makeTinyModel(visualPositions: .token, residual: true)
        let short = MultimodalExample(tokens: [5, 6, TinyVocab.eos], lossMask: [0, 1, 1])
        let exs = examples() + Array(repeating: short, count: 12)
        let lengths = try exs.map { try model.sequenceEmbeddings($0).0.shape[1] }
        XCTAssertEqual(MultimodalModel.lengthGroups(lengths).count, 2)  // the two 22-long ones run apart
        let batched = try model.forward(batch: exs)
        for (ex, b) in zip(exs, batched) {
            let one = try model.forward(ex)
            XCTAssertEqual(b.targets, one.targets)
            assertClose(try XCTUnwrap(b.logits), try XCTUnwrap(one.logits), atol: 1e-4)
            if let c = one.conditions { assertClose(try XCTUnwrap(b.conditions), c, atol: 1e-4) }
        }
    }

    func testVisualPositionsAreAddedToEveryImagesTokens() throws {
        let plain = try makeTinyModel(seed: 5)
        let positioned = try makeTinyModel(seed: 5, visualPositions: .grid)
        let grid = try XCTUnwrap(positioned.visualPositions)
        let pos = try grid()
        XCTAssertEqual(pos.shape, [16, 48])
        XCTAssertTrue(positioned.stateDict().keys.contains("visual_positions.rows"))
        XCTAssertEqual(try makeTinyModel(visualPositions: .token).visualPositions?.table?.shape, [16, 48])
        // factorised: the token at (r, c) of the 4 × 4 grid gets rows[r] + columns[c]
        let (rows, columns) = (try XCTUnwrap(grid.rows).toArray(), try XCTUnwrap(grid.columns).toArray())
        let p = pos.toArray()
        for (r, c) in [(0, 0), (1, 3), (3, 2)] {
            for j in [0, 47] {
                XCTAssertEqual(p[(r * 4 + c) * 48 + j], rows[r * 48 + j] + columns[c * 48 + j], accuracy: 1e-7)
            }
        }
        // K = 4 queries are not on the 4 × 4 visual grid: they are the learned queries alone …
        assertClose(try XCTUnwrap(positioned.queryEmbeddings()), try XCTUnwrap(positioned.outputQueries).unsqueeze(0))
        // … and K = 16 queries are, so each gets its grid position too.
        let onGrid = try makeTinyModel(seed: 5, visualPositions: .grid, queries: 16)
        let expectedQueries = try XCTUnwrap(onGrid.outputQueries) + XCTUnwrap(onGrid.visualPositions)()
        assertClose(try XCTUnwrap(onGrid.queryEmbeddings()), try expectedQueries.unsqueeze(0))
        _ = try positioned.loadStateDict(plain.stateDict(), strict: false)
        let pixels = try concat([tinyImage(seed: 1).unsqueeze(0), tinyImage(seed: 2).unsqueeze(0)], axis: 0)
        let expected = try plain.visualTokens(pixels) + pos.unsqueeze(0)
        assertClose(try positioned.visualTokens(pixels), expected, atol: 1e-6)
    }

    func testResidualOutputAddsTheImageItFollows() throws {
        let model = try makeTinyModel(residual: true)
        let plain = try makeTinyModel(residual: false)
        _ = try plain.loadStateDict(model.stateDict(), strict: true)
        let source = tinyImage(seed: 3), first = tinyImage(seed: 4)
        // edit: the block follows the input image; interleaved: the second block follows the first output image
        let ex = MultimodalExample(
            tokens: [TinyVocab.image, 7, TinyVocab.imageBegin, 8, TinyVocab.imageBegin],
            lossMask: [0, 0, 1, 1, 1], inputImages: [source], targetImages: [first, source])
        let r = try XCTUnwrap(model.forward(ex).conditions)
        let p = try XCTUnwrap(plain.forward(ex).conditions)
        let bases = try model.targetConditions(images: concat([source.unsqueeze(0), first.unsqueeze(0)], axis: 0))
        assertClose(r, try p + bases, atol: 1e-5)
        // text to image: nothing precedes the block, nothing is added
        let t2i = MultimodalExample(tokens: [5, TinyVocab.imageBegin], lossMask: [0, 1], targetImages: [first])
        assertClose(
            try XCTUnwrap(model.forward(t2i).conditions), try XCTUnwrap(plain.forward(t2i).conditions),
            atol: 1e-6)
        var rng = RNG(seed: 1)
        XCTAssertThrowsError(
            try MultimodalModel(
                config: MultimodalConfig(
                    imageTokenId: 2, imageBeginTokenId: 3, outputMode: .autoregressive, numQueries: 4,
                    residualConditions: true),
                visionEncoder: model.visionEncoder, projector: model.projector, llm: model.llm, rng: &rng))
    }

    /// With residual output, an edit's regression is weighted against its source's conditions; a text-to-image
    /// block against its own background.
    func testLossesWeighEditsByTheirChange() throws {
        let model = try makeTinyModel(residual: true)
        let exs = Array(examples().dropFirst())  // text to image, then an edit of input image 3 into image 4
        let config = MultimodalLossConfig(ceWeight: 0, objectWeight: 3)
        let got = try model.losses(exs, config: config).regression.item()
        let outs = try model.forward(batch: exs)
        let predicted = try concat(outs.compactMap(\.conditions), axis: 0)
        let target = try model.targetConditions(images: stack([tinyImage(seed: 2), tinyImage(seed: 4)], axis: 0))
        let source = try model.targetConditions(images: tinyImage(seed: 3).unsqueeze(0)).reshape([4, 32])
        let w = try objectWeights(target, alpha: 3, references: [nil, source])
        XCTAssertEqual(
            got, try weightedRegressionLoss(predicted, target, weights: w, kind: .mse).item(), accuracy: 1e-5)
        XCTAssertNotEqual(
            got,
            try weightedRegressionLoss(
                predicted, target, weights: objectWeights(target, alpha: 3),
                kind: .mse
            ).item(), accuracy: 1e-6)
        XCTAssertNil(outs[0].bases.first ?? nil)
        XCTAssertNotNil(outs[1].bases.first ?? nil)
    }

    func testObjectWeightsFavourTokensUnlikeTheBackground() throws {
        // 1 image, K = 4 tokens of Dc = 2: three background tokens (0, 0) and one object (3, 4): d = [0, 0, 0, 25]
        let t = try Tensor(shape: [1, 4, 2], data: [0, 0, 0, 0, 3, 4, 0, 0])
        let w = try objectWeights(t, alpha: 2)
        // mean d = 6.25 → w = 1 + 2 · d / 6.25 = [1, 1, 9, 1]
        XCTAssertEqual(w.shape, [1, 4, 1])
        XCTAssertEqual(w.toArray(), [1, 1, 9, 1])
        // prediction all background: per-token mse [0, 0, 12.5, 0] → (9 · 12.5) / 12
        let p = Tensor(zeros: [1, 4, 2])
        XCTAssertEqual(try weightedRegressionLoss(p, t, weights: w, kind: .mse).item(), 9 * 12.5 / 12, accuracy: 1e-5)
        // With a reference (residual output), the distance is to it: only token 0 differs from r.
        let r = try Tensor(shape: [4, 2], data: [1, 0, 0, 0, 3, 4, 0, 0])
        XCTAssertEqual(try objectWeights(t, alpha: 2, references: [r]).toArray(), [9, 1, 1, 1])
        let ones = try Tensor(shape: [1, 4, 1], data: [1, 1, 1, 1])
        XCTAssertEqual(
            try weightedRegressionLoss(p, t, weights: ones, kind: .mse).item(),
            try regressionLoss(p, t, kind: .mse).item(), accuracy: 1e-6)
    }
}
