import ReverieCore
import ReverieDiffusion
import XCTest

@testable import ReverieMultimodal

/// Edits keep the source where the model's conditions leave it alone.
final class SourceKeepingTests: XCTestCase {
    func testChangedTokensGrowIntoTheirNeighbours() {
        var change = [Float](repeating: 0.01, count: 16)  // a 4 × 4 grid
        change[5] = 0.5  // row 1, column 1
        let keeping = SourceKeeping(threshold: 0.1, grow: 1)
        let mask = keeping.keepMask(change: change, energy: 1)
        let redrawn = mask.indices.filter { mask[$0] == 0 }
        XCTAssertEqual(redrawn, [0, 1, 2, 4, 5, 6, 8, 9, 10])
        XCTAssertEqual(
            SourceKeeping(threshold: 0.1, grow: 0).keepMask(change: change, energy: 1).filter { $0 == 0 }
                .count, 1)
        // The threshold is a fraction of the source's energy.
        XCTAssertEqual(keeping.keepMask(change: change, energy: 10), Array(repeating: 1, count: 16))
        XCTAssertEqual(keeping.keepMask(change: change, energy: 0.05).filter { $0 == 0 }.count, 16)
    }

    /// The source's own conditions keep everything; a token moved far is redrawn with its neighbours, on the
    /// latent grid (2 × 2 tokens over a 32 × 32 latent).
    func testKeptRegionFollowsTheConditions() throws {
        let base = try makeTinyModel()
        var rng = RNG(seed: 2)
        let model = try withTinyDecoder(base, rng: &rng)
        let source = try tinyImage(seed: 3).unsqueeze(0)
        let own = try model.targetConditions(images: source)  // [1, 4, 32]
        let keeping = SourceKeeping(threshold: 0.2, grow: 0)
        let same = try model.keptRegion(conditions: own, source: source, keeping: keeping)
        XCTAssertEqual(same.mask.shape, [1, 1, 32, 32])
        XCTAssertEqual(same.mask.toArray(), Array(repeating: 1, count: 1024))
        assertLatent(same.latent, equals: try model.decoder!.latents(images: source))

        var moved = own.toArray()
        for j in 0..<32 { moved[3 * 32 + j] += 3 }  // token 3: the bottom-right quarter
        let region = try model.keptRegion(
            conditions: Tensor(shape: [1, 4, 32], data: moved), source: source,
            keeping: keeping)
        let mask = region.mask.toArray()
        XCTAssertEqual(mask[0], 1)
        XCTAssertEqual(mask[16 * 32 + 15], 1)
        XCTAssertEqual(mask[16 * 32 + 16], 0)
        XCTAssertEqual(mask.filter { $0 == 0 }.count, 256)
        XCTAssertEqual(
            try model.keptRegion(
                conditions: Tensor(shape: [1, 4, 32], data: moved), source: source,
                keeping: SourceKeeping(threshold: 0.2, grow: 1)
            ).mask.toArray(),
            Array(repeating: 0, count: 1024))
        XCTAssertThrowsError(
            try model.keptRegion(
                conditions: Tensor(zeros: [1, 3, 32]), source: source,
                keeping: keeping))
        XCTAssertThrowsError(try base.keptRegion(conditions: own, source: source, keeping: keeping))

        // An edit drawn with keeping on takes the source's latent where nothing changed.
        let drawn = try model.generateImage(
            prompt: [TinyVocab.image, 5], images: [tinyImage(seed: 3)], imageSize: (64, 64),
            steps: 2, guidance: 1, seed: 1,
            keeping: SourceKeeping(threshold: 1e6))
        let decoded = try withNoGrad { try model.decoder!.vae.decodeLatents(same.latent) }
        XCTAssertEqual(drawn.toArray(), decoded.toArray())
    }

    func assertLatent(_ a: Tensor, equals b: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        XCTAssertEqual(a.toArray(), b.toArray(), file: file, line: line)
    }
}
