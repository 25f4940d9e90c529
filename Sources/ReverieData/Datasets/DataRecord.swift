import Foundation

/// Where a record's image comes from: a file (relative paths already resolved against the manifest's folder) or
/// a ShapesWorld scene rendered in memory.
public enum ImageRef: Hashable, Sendable {
    case file(URL)
    case scene(Scene)
}

/// One segment of an interleaved record.
public enum RecordSegment: Hashable, Sendable {
    case text(String)
    case image(ImageRef)
}

/// One training example, as a manifest line describes it (docs/DESIGN.md §2, issue 5 item 3).
public enum DataRecord: Hashable, Sendable {
    /// `{"kind": "caption", "image": …, "text": …}`: read the image, write the text.
    case caption(image: ImageRef, text: String)
    /// `{"kind": "text_to_image", "text": …, "image": …}`: read the text, draw the image.
    case textToImage(text: String, image: ImageRef)
    /// `{"kind": "edit", "source": …, "instruction": …, "target": …[, "result": …]}`: read the source and the
    /// instruction, draw the target. With `result` (a text describing the target), the model writes it before it
    /// draws — the symbolic part of the edit in words, which the drawing then reads like a text-to-image prompt.
    case edit(source: ImageRef, instruction: String, target: ImageRef, result: String? = nil)
    /// `{"kind": "interleaved", "segments": [{"text": …} | {"image": …}]}`.
    case interleaved([RecordSegment])

    /// The manifest name of the record's kind.
    public var kind: String {
        switch self {
        case .caption: return "caption"
        case .textToImage: return "text_to_image"
        case .edit: return "edit"
        case .interleaved: return "interleaved"
        }
    }

    /// Every image the record names, in order.
    public var images: [ImageRef] {
        switch self {
        case .caption(let i, _), .textToImage(_, let i): return [i]
        case .edit(let s, _, let t, _): return [s, t]
        case .interleaved(let segments):
            return segments.compactMap { if case .image(let i) = $0 { return i } else { return nil } }
        }
    }

    /// The images a model writes for the record (after `<img>`), in order: a text-to-image target, an edit's
    /// target, an interleaved sequence's images; none for a caption.
    public var outputImages: [ImageRef] {
        switch self {
        case .caption: return []
        case .textToImage(_, let i): return [i]
        case .edit(_, _, let t, _): return [t]
        case .interleaved: return images
        }
    }

    /// Every text the record holds, in order (what a tokenizer learns from).
    public var texts: [String] {
        switch self {
        case .caption(_, let t), .textToImage(let t, _): return [t]
        case .edit(_, let instruction, _, let result): return [instruction] + (result.map { [$0] } ?? [])
        case .interleaved(let segments):
            return segments.compactMap { if case .text(let t) = $0 { return t } else { return nil } }
        }
    }
}

/// Errors from manifests and data loading. Each names the file, and the line for manifest problems.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case unreadableManifest(file: String, reason: String)
    case badLine(file: String, line: Int, reason: String)
    case badImage(file: String, reason: String)
    case badConfiguration(String)

    public var description: String {
        switch self {
        case .unreadableManifest(let f, let r): return "\(f): \(r)"
        case .badLine(let f, let l, let r): return "\(f):\(l): \(r)"
        case .badImage(let f, let r): return "\(f): \(r)"
        case .badConfiguration(let r): return "data: \(r)"
        }
    }
}
