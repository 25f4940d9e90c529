import ReverieCore

/// The ShapesWorld scores of docs/DESIGN.md §7: caption exact-match, text-to-image attribute accuracy, edit accuracy
/// and reconstruction accuracy, all measured against the scene an output should show.
public struct Evaluator: Sendable {
    public var reader = SceneReader()

    public init() {}

    /// Compares what `image` shows with `expected`. Objects are paired to maximise matching attributes, so a
    /// right shape in the wrong cell still counts its shape, colour and size.
    public func score(_ image: PlanarImage, expected: Scene) -> AttributeScores {
        Self.compare(reader.read(image), expected: expected)
    }

    /// Text-to-image attribute accuracy, and reconstruction accuracy, for one image: see ``score(_:expected:)``.
    public func score(_ image: Tensor, expected: Scene) throws -> AttributeScores {
        score(try PlanarImage(tensor: image), expected: expected)
    }

    /// Edit accuracy for one image: every object of `target` right and nothing extra, background included.
    public func editIsCorrect(_ image: PlanarImage, target: Scene) -> Bool { reader.read(image).matches(target) }

    /// Caption exact-match: the caption, read back by ``CaptionParser``, describes exactly `truth`. Wording is
    /// free (any template, any object order); a caption that cannot be parsed is wrong.
    public func captionMatches(_ caption: String, truth: Scene) -> Bool {
        (try? CaptionParser.parse(caption)) == truth
    }

    /// What a caption gets right, attribute by attribute: the scene it parses to against `truth` (an unparsable
    /// caption gets everything wrong). Its `exact` is ``captionMatches(_:truth:)``.
    public func captionScore(_ caption: String, truth: Scene) -> AttributeScores {
        guard let parsed = try? CaptionParser.parse(caption) else {
            return Self.compare(background: nil, found: [], expected: truth, exact: false)
        }
        return Self.compare(
            background: parsed.background, found: parsed.objects, expected: truth,
            exact: parsed == truth)
    }

    /// Scores `read` against `expected` (see ``AttributeScores``).
    public static func compare(_ read: ReadScene, expected: Scene) -> AttributeScores {
        compare(
            background: read.background, found: read.objects.map(\.object), expected: expected,
            exact: read.matches(expected))
    }

    /// Scores a background and objects (from an image or a caption) against `expected`.
    static func compare(
        background: BackgroundColor?, found: [SceneObject], expected: Scene,
        exact: Bool
    ) -> AttributeScores {
        var s = AttributeScores()
        let pairing = bestPairing(expected.objects, found)
        for (k, o) in expected.objects.enumerated() {
            let f = pairing[k].map { found[$0] }
            s.shape.record(f?.shape == o.shape)
            s.shapeByKind["\(o.size.rawValue) \(o.shape.word)", default: Tally()].record(f?.shape == o.shape)
            s.color.record(f?.color == o.color)
            s.size.record(f?.size == o.size)
            s.position.record(f?.cell == o.cell)
        }
        s.background.record(background == expected.background)
        s.count.record(found.count == expected.objects.count)
        s.exact.record(exact)
        return s
    }

    /// For each expected object, the index of its found partner (or nil), maximising agreeing attributes.
    static func bestPairing(_ expected: [SceneObject], _ found: [SceneObject]) -> [Int?] {
        func agreement(_ a: SceneObject, _ b: SceneObject) -> Int {
            (a.shape == b.shape ? 1 : 0) + (a.color == b.color ? 1 : 0) + (a.size == b.size ? 1 : 0)
                + (a.cell == b.cell ? 1 : 0)
        }
        // Exhaustive search: scenes hold a handful of objects. Beyond four expected objects, pair greedily.
        if expected.count > 4 || found.count > 9 {
            var used = Set<Int>()
            return expected.map { e in
                let free = found.indices.filter { !used.contains($0) }
                let best = free.max { agreement(e, found[$0]) < agreement(e, found[$1]) }
                if let b = best { used.insert(b) }
                return best
            }
        }
        var best: [Int?] = Array(repeating: nil, count: expected.count), bestScore = -1
        var current: [Int?] = [], used = [Bool](repeating: false, count: found.count)
        func search(_ k: Int, _ score: Int) {
            if k == expected.count {
                if score > bestScore {
                    bestScore = score
                    best = current
                }
                return
            }
            for j in found.indices where !used[j] {
                used[j] = true
                current.append(j)
                search(k + 1, score + agreement(expected[k], found[j]))
                used[j] = false
                current.removeLast()
            }
            current.append(nil)
            search(k + 1, score)
            current.removeLast()
        }
        search(0, 0)
        return best
    }
}
