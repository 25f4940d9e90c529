import Foundation
import ReverieCore
import ReverieTrain
import XCTest

/// `data.augment`: random crop and flip per item, a pure function of the item's index.
final class AugmentationTests: XCTestCase {
    func images(_ b: Int, _ side: Int = 8) throws -> Tensor {
        var rng = RNG(seed: 3)
        return Tensor.randn([b, 3, side, side], rng: &rng)
    }

    func testFlipMirrorsAboutHalfTheItemsAndIsAFunctionOfTheIndex() throws {
        var a = Augmentation()
        XCTAssertEqual(try a.apply(images(4), indices: [0, 1, 2, 3]).toArray(), try images(4).toArray())  // off
        a.flip = true
        let x = try images(64), indices = Array(100..<164)
        let y = try a.apply(x, indices: indices)
        var flipped = 0
        for i in 0..<64 {
            let (xi, yi) = (try x.slice(axis: 0, start: i, end: i + 1), try y.slice(axis: 0, start: i, end: i + 1))
            if xi.toArray() == yi.toArray() { continue }
            // mirrored: column j of the output is column 7 − j of the input
            let (u, v) = (xi.toArray(), yi.toArray())
            for k in 0..<(3 * 8) { for j in 0..<8 { XCTAssertEqual(v[k * 8 + j], u[k * 8 + 7 - j]) } }
            flipped += 1
        }
        XCTAssertTrue((20...44).contains(flipped), "\(flipped) of 64 flipped")
        // The same item gets the same draw in any batch.
        let single = try a.apply(x.slice(axis: 0, start: 5, end: 6), indices: [105])
        XCTAssertEqual(single.toArray(), try y.slice(axis: 0, start: 5, end: 6).toArray())
    }

    func testCropResamplesWithinTheImage() throws {
        var a = Augmentation()
        a.crop = 0.5
        let x = try images(8, 16)
        let y = try a.apply(x, indices: Array(0..<8))
        XCTAssertEqual(y.shape, x.shape)
        XCTAssertNotEqual(y.toArray(), x.toArray())
        let (lo, hi) = (x.toArray().min()!, x.toArray().max()!)
        XCTAssertTrue(y.toArray().allSatisfy { $0 >= lo - 1e-5 && $0 <= hi + 1e-5 })  // bilinear: no overshoot
        XCTAssertEqual(try a.apply(x, indices: Array(0..<8)).toArray(), y.toArray())
        a.crop = 0.05
        XCTAssertThrowsError(try a.validate())
    }

    func testOnlyTheImageStagesReadIt() throws {
        let vae = "stage: vae\nmodel:\n  vae: {channels: [8], norm_groups: 4}\ndata: {augment: {flip: true, crop: 0.8}}"
        XCTAssertEqual(try Recipe(node: RecipeNode.parse(yaml: vae, file: "r.yaml")).data.augment.crop, 0.8)
        let siglip = """
            stage: siglip
            data: {augment: {flip: true}}
            model:
              vision: {hidden: 16, layers: 1, heads: 2}
              text: {hidden: 16, layers: 1, heads: 2}
            """
        XCTAssertThrowsError(try Recipe(node: RecipeNode.parse(yaml: siglip, file: "r.yaml"))) { error in
            XCTAssertEqual((error as? RecipeError)?.key, "data.augment")
        }
    }
}
