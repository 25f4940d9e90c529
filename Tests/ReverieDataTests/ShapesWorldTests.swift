import ReverieCore
import XCTest

@testable import ReverieData

final class ShapesWorldTests: XCTestCase {
    func testSamplesAreDeterministicPerSeedAndIndex() {
        let a = ShapesWorld(seed: 5), b = ShapesWorld(seed: 5), c = ShapesWorld(seed: 6)
        for i in 0..<20 {
            XCTAssertEqual(a.caption(at: i), b.caption(at: i))
            XCTAssertEqual(a.edit(at: i), b.edit(at: i))
            XCTAssertEqual(a.interleaved(at: i), b.interleaved(at: i))
            XCTAssertEqual(a.render(a.scene(at: i)), b.render(b.scene(at: i)))
        }
        XCTAssertNotEqual((0..<20).map { a.caption(at: $0) }, (0..<20).map { c.caption(at: $0) })
        // Random access: reading index 7 alone gives the same sample as reading 0...7 in order.
        XCTAssertEqual(ShapesWorld(seed: 5).textToImage(at: 7), a.textToImage(at: 7))
    }

    func testScenesCoverTheWorldAndNeverOverlap() {
        let world = ShapesWorld(seed: 11)
        var shapes = Set<ShapeKind>(), colors = Set<ObjectColor>(), sizes = Set<ObjectSize>()
        var cells = Set<GridCell>(), backgrounds = Set<BackgroundColor>(), counts = Set<Int>()
        for i in 0..<400 {
            let s = world.scene(at: i)
            XCTAssertTrue((1...2).contains(s.objects.count))
            XCTAssertEqual(Set(s.objects.map(\.cell)).count, s.objects.count, "objects share a cell")
            shapes.formUnion(s.objects.map(\.shape))
            colors.formUnion(s.objects.map(\.color))
            sizes.formUnion(s.objects.map(\.size))
            cells.formUnion(s.objects.map(\.cell))
            backgrounds.insert(s.background)
            counts.insert(s.objects.count)
        }
        XCTAssertEqual(shapes.count, 3)
        XCTAssertGreaterThanOrEqual(colors.count, 6)
        XCTAssertEqual(sizes.count, 2)
        XCTAssertEqual(cells.count, 9)
        XCTAssertEqual(backgrounds.count, BackgroundColor.allCases.count)
        XCTAssertEqual(counts, [1, 2])
    }

    func testPaletteColoursAreWellSeparated() {
        let objects = ObjectColor.allCases.map(\.rgb), backgrounds = BackgroundColor.allCases.map(\.rgb)
        for (i, a) in objects.enumerated() {
            for b in objects[(i + 1)...] { XCTAssertGreaterThan(a.distance(to: b), 0.3) }
            for b in backgrounds { XCTAssertGreaterThan(a.distance(to: b), 0.35) }
        }
        XCTAssertEqual(ObjectColor.nearest(to: RGB(0.9, 0.2, 0.1)), .red)
        XCTAssertEqual(BackgroundColor.nearest(to: RGB(0.45, 0.5, 0.55)), .gray)
    }

    func testPatchLabelsNameTheShapeUnderEachPatch() throws {
        // A small square at the top left (box 6.2…15.2 px) and a large triangle in the centre (box 23.5…40.5 px)
        // on 8-pixel patches: the square covers patch (1, 1) mostly and (0, 1), (1, 0) by 13 px² (≥ 8, labelled),
        // (0, 0) by 3 px² (background); the triangle covers rows and columns 3-4 fully and patch 2/5 by slivers.
        let square = SceneObject(
            shape: .square, color: .red, size: .small, cell: try XCTUnwrap(GridCell(row: 0, column: 0)))
        let triangle = SceneObject(
            shape: .triangle, color: .blue, size: .large,
            cell: try XCTUnwrap(GridCell(row: 1, column: 1)))
        let labels = try Scene(background: .white, objects: [square, triangle]).patchShapeLabels(grid: 8, canvas: 64)
        var expected = [Int](repeating: 0, count: 64)
        for t in [1, 8, 9] { expected[t] = 2 }
        for t in [27, 28, 35, 36] { expected[t] = 3 }
        XCTAssertEqual(labels, expected)
        XCTAssertEqual(Scene.patchLabelClasses, 4)
        // The colour labels cover the same patches: red is colour 1, blue colour 3.
        let colors = try Scene(background: .white, objects: [square, triangle]).patchLabels(.color, grid: 8, canvas: 64)
        XCTAssertEqual(colors, expected.map { [0, 0, 1, 3][$0] })
        XCTAssertEqual(PatchAttribute.color.classes, 7)
        XCTAssertEqual(
            try Scene(background: .white, objects: []).patchShapeLabels(grid: 4, canvas: 64),
            [Int](repeating: 0, count: 16))
    }

    /// An edit chain's second edit starts from the first one's target, and chains are reproducible.
    func testEditChainsApplyToThePreviousTarget() throws {
        let world = ShapesWorld(seed: 5)
        for i in 0..<30 {
            let chain = world.editChain(at: i)
            XCTAssertEqual(chain.count, 2)
            XCTAssertEqual(chain[1].source, chain[0].target)
            XCTAssertNotEqual(chain[1].target, chain[0].source)
            XCTAssertEqual(try EditParser.apply(chain[1].instruction, to: chain[1].source), chain[1].target)
            XCTAssertEqual(world.editChain(at: i).map(\.instruction), chain.map(\.instruction))
        }
        XCTAssertEqual(world.editChain(at: 3, turns: 4).count, 4)
    }

    func testSceneRejectsTwoObjectsInOneCell() throws {
        let cell = try XCTUnwrap(GridCell(row: 0, column: 2))
        let o = SceneObject(shape: .circle, color: .red, size: .small, cell: cell)
        XCTAssertThrowsError(try Scene(background: .white, objects: [o, o])) { error in
            XCTAssertEqual(error as? ShapesWorldError, .overlappingObjects("top right"))
        }
        XCTAssertNil(GridCell(row: 3, column: 0))
    }

    func testSceneJSONRoundTripsAndRejectsBadCells() throws {
        let scene = ShapesWorld(seed: 3).scene(at: 1)
        let data = try JSONEncoder().encode(scene)
        XCTAssertEqual(try JSONDecoder().decode(Scene.self, from: data), scene)
        let bad = #"{"background":"white","objects":[{"shape":"circle","color":"red","size":"small","cell":9}]}"#
        XCTAssertThrowsError(try JSONDecoder().decode(Scene.self, from: Data(bad.utf8)))
    }

    func testRenderIsAntiAliasedAndSized() throws {
        let cell = try XCTUnwrap(GridCell(row: 1, column: 1))
        let small = try Scene(
            background: .black,
            objects: [
                SceneObject(
                    shape: .square, color: .yellow, size: .small,
                    cell: cell)
            ])
        let image = Rasterizer().render(small)
        XCTAssertEqual(image.size, 64)
        XCTAssertTrue(image.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        // The square spans 27.5...36.5, so columns 27 and 36 are half covered: anti-aliased, not aliased.
        let bg = BackgroundColor.black.rgb.r, fg = ObjectColor.yellow.rgb.r
        XCTAssertEqual(image.pixel(32, 32).r, fg, accuracy: 1e-6)
        XCTAssertEqual(image.pixel(27, 32).r, (bg + fg) / 2, accuracy: 1e-6)
        XCTAssertEqual(image.pixel(37, 32).r, bg, accuracy: 1e-6)
        let covered = (0..<64 * 64).reduce(Float(0)) { $0 + (image.pixels[$1] - bg) / (fg - bg) }
        XCTAssertEqual(covered, 81, accuracy: 0.01)

        let tensor = image.tensor()
        XCTAssertEqual(tensor.shape, [3, 64, 64])
        XCTAssertEqual(try PlanarImage(tensor: tensor), image)
        let bytes = image.rgbBytes()
        XCTAssertEqual(bytes.count, 3 * 64 * 64)
        XCTAssertEqual(bytes[3 * (32 * 64 + 32)], UInt8((fg * 255).rounded()))
        XCTAssertEqual(try PlanarImage(size: 64, rgbBytes: bytes).rgbBytes(), bytes)
        XCTAssertThrowsError(try PlanarImage(tensor: Tensor(zeros: [3, 64, 32])))
        XCTAssertThrowsError(try PlanarImage(size: 64, rgbBytes: [1, 2, 3]))
    }

    func testBatchesSplitIntoImagesAndScenesSummarise() throws {
        let world = ShapesWorld(seed: 2)
        let images = (0..<3).map { world.render(world.scene(at: $0)) }
        let batch = try Tensor(shape: [3, 3, 64, 64], data: images.flatMap(\.pixels))
        XCTAssertEqual(try PlanarImage.images(fromBatch: batch), images)
        XCTAssertThrowsError(try PlanarImage.images(fromBatch: Tensor(zeros: [3, 64, 64])))
        let scene = try CaptionParser.parse(
            "a small red circle in the top left and a large blue square in the center, white")
        XCTAssertEqual(scene.summary, "small red circle (top left), large blue square (center) on white")
    }

    func testDegradationIsSeededAndBlurKeepsMass() {
        let world = ShapesWorld(seed: 2)
        let image = world.render(world.scene(at: 0))
        var r1 = RNG(seed: 1), r2 = RNG(seed: 1), r3 = RNG(seed: 2)
        let a = Degradation.standard.apply(to: image, rng: &r1), b = Degradation.standard.apply(to: image, rng: &r2)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, Degradation.standard.apply(to: image, rng: &r3))
        XCTAssertNotEqual(a, image)
        let k = Degradation.kernel(sigma: 0.7)
        XCTAssertEqual(k.count, 7)
        XCTAssertEqual(k.reduce(0, +), 1, accuracy: 1e-6)
        let blurred = Degradation(blurSigma: 0.7, noiseSigma: 0).apply(to: image, rng: &r1)
        XCTAssertEqual(blurred.pixels.reduce(0, +), image.pixels.reduce(0, +), accuracy: 0.5)
    }

    func testEditsCoverEveryKindAndChangeExactlyWhatTheySay() {
        let world = ShapesWorld(seed: 9)
        var kinds = Set<EditKind>()
        for i in 0..<120 {
            let e = world.edit(at: i)
            kinds.insert(e.kind)
            XCTAssertNotEqual(e.source, e.target, e.instruction)
            XCTAssertEqual(e.source.background, e.target.background)
            switch e.kind {
            case .add: XCTAssertEqual(e.target.objects.count, e.source.objects.count + 1)
            case .remove: XCTAssertEqual(e.target.objects.count, e.source.objects.count - 1)
            default:
                XCTAssertEqual(e.target.objects.count, e.source.objects.count)
                let removed = e.source.objects.filter { !e.target.objects.contains($0) }
                let added = e.target.objects.filter { !e.source.objects.contains($0) }
                guard removed.count == 1, added.count == 1, let r = removed.first, let a = added.first else {
                    XCTFail("\(e.instruction): more than one object changed")
                    continue
                }
                let differs = [r.shape != a.shape, r.color != a.color, r.size != a.size, r.cell != a.cell]
                let expected: [EditKind: Int] = [.reshape: 0, .recolor: 1, .resize: 2, .move: 3]
                XCTAssertEqual(differs.indices.filter { differs[$0] }, [expected[e.kind] ?? -1], e.instruction)
            }
        }
        XCTAssertEqual(kinds, Set(EditKind.allCases))
    }

    func testEditsOfAChosenKind() {
        let world = ShapesWorld(seed: 9)
        for i in 0..<24 {
            // The cycled edit is the same item made with its cycled kind; any other kind is that kind.
            XCTAssertEqual(world.edit(at: i), world.edit(at: i, kind: ShapesWorld.cycledKind(i)))
            XCTAssertEqual(world.edit(at: i, kind: .recolor).kind, .recolor)
            XCTAssertEqual(world.edit(at: i, kind: .remove).kind, .remove)
        }
    }

    func testEditsOfEmptyAndFullScenesFallBackToAddAndRemove() throws {
        var rng = RNG(seed: 3)
        let empty = try Scene(background: .gray, objects: [])
        let add = EditGenerator.edit(.recolor, source: empty, rng: &rng)
        XCTAssertEqual(add.kind, .add)
        XCTAssertEqual(add.target.objects.count, 1)
        let full = SceneGenerator.scene(objectCount: 9, rng: &rng)
        for kind in [EditKind.add, .move] {
            let e = EditGenerator.edit(kind, source: full, rng: &rng)
            XCTAssertEqual(e.kind, .remove)
            XCTAssertEqual(try EditParser.apply(e.instruction, to: full), e.target, e.instruction)
        }
    }

    func testInterleavedRecordsAlternateTextAndImages() throws {
        let world = ShapesWorld(seed: 4)
        for i in 0..<12 {
            let segments = world.interleaved(at: i).segments
            XCTAssertEqual(segments.count, 4)
            guard case .text(let draw) = segments[0], case .image(let first) = segments[1],
                case .text(let change) = segments[2], case .image(let second) = segments[3]
            else { return XCTFail("unexpected layout \(segments)") }
            XCTAssertEqual(try CaptionParser.parse(draw), first)
            let instruction = change.split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""
            XCTAssertEqual(try EditParser.apply(instruction, to: first), second, change)
        }
    }
}
