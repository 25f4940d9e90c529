/// An image with the caption that describes it.
public struct CaptionSample: Hashable, Sendable {
    public let scene: Scene
    public let text: String
}

/// A prompt with the scene it asks for.
public struct TextToImageSample: Hashable, Sendable {
    public let text: String
    public let scene: Scene
}

/// The six kinds of edit.
public enum EditKind: String, CaseIterable, Codable, Sendable, Hashable {
    case recolor, move, resize, reshape, add, remove
}

/// A source scene, an instruction, and the scene the instruction produces.
public struct EditSample: Hashable, Sendable {
    public let kind: EditKind
    public let source: Scene
    public let instruction: String
    public let target: Scene
}

/// One segment of an interleaved record: text, or an image (given as the scene it shows).
public enum InterleavedSegment: Hashable, Sendable {
    case text(String)
    case image(Scene)
}

/// Text and images in order, e.g. "draw X" [image], "then make it Y" [image].
public struct InterleavedSample: Hashable, Sendable {
    public let segments: [InterleavedSegment]
}
