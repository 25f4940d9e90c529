import ReverieCore

/// Writes captions and text-to-image prompts for scenes from a set of templates.
///
/// Every text names the background and each object's size, colour, shape and position, so it describes the scene
/// completely and ``CaptionParser`` reads it back to the same scene.
public enum CaptionWriter {
    /// A caption of `scene`, e.g. "a small red circle in the top left on a white background".
    public static func caption(_ scene: Scene, rng: inout RNG) -> String {
        let body = objectList(scene, rng: &rng)
        let bg = scene.background.word
        let templates =
            scene.objects.count == 2
            ? [
                "\(body) on a \(bg) background",
                "there is \(body). the background is \(bg).",
                "two shapes on a \(bg) background: \(body)",
                "a \(bg) background with \(body)",
            ]
            : [
                "\(body) on a \(bg) background",
                "there is \(body). the background is \(bg).",
                "a \(bg) background with \(body)",
                "one shape on a \(bg) background: \(body)",
            ]
        return Phrases.pick(templates, &rng)
    }

    /// The one caption of `scene` a fixed generator picks (template and object order): a text that is a function
    /// of the scene alone, which a model can learn to write for it (an edit's described result).
    public static func canonicalCaption(_ scene: Scene) -> String {
        var rng = RNG(seed: 0)
        return caption(scene, rng: &rng)
    }

    /// A text-to-image prompt for `scene`, e.g. "draw a large blue square in the center on a black background".
    public static func prompt(_ scene: Scene, rng: inout RNG) -> String {
        let body = objectList(scene, rng: &rng)
        let bg = scene.background.word
        return Phrases.pick(
            [
                "draw \(body) on a \(bg) background",
                "generate an image of \(body) on a \(bg) background",
                "a picture of \(body), \(bg) background",
                "paint \(body) on a \(bg) background",
            ], &rng)
    }

    /// "a small red circle in the top left and a large blue square at the bottom", objects in random order.
    static func objectList(_ scene: Scene, rng: inout RNG) -> String {
        var objects = scene.objects
        if objects.count > 1, rng.next() & 1 == 1 { objects.reverse() }
        let parts = objects.map { "a \(Phrases.object($0, rng: &rng)) \(Phrases.location($0.cell, rng: &rng))" }
        switch parts.count {
        case 0: return "nothing"
        case 1: return parts[0]
        default: return parts.dropLast().joined(separator: ", ") + " and " + (parts.last ?? "")
        }
    }
}
