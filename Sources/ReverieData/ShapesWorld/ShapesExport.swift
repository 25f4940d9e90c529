import Foundation
import ReverieIO

/// Writes ShapesWorld records to disk as PNG files and JSONL manifests (`reverie data shapes`), in the manifest
/// format `Manifest` reads back: image paths relative to the manifest, one manifest per kind.
public enum ShapesExport {
    /// The record kinds, by their command-line names.
    public enum Kind: String, CaseIterable, Sendable {
        case caption, t2i, edit, interleaved

        /// The manifest file name.
        public var manifestName: String { "\(rawValue).jsonl" }
    }

    /// Writes `count` records of each kind in `kinds` under `directory`: PNGs in `images/<kind>/` and one manifest
    /// `<kind>.jsonl` per kind. Record `i` of a kind is ShapesWorld's sample `i` for that kind, so the same seed and
    /// count always give the same files. Manifests are written atomically; returns their URLs in `kinds` order.
    public static func write(
        world: ShapesWorld, to directory: URL, count: Int, kinds: [Kind],
        progress: ((Int) -> Void)? = nil
    ) throws -> [URL] {
        var done = 0
        return try kinds.map { kind in
            let folder = directory.appendingPathComponent("images/\(kind.rawValue)", isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var records: [DataRecord] = []
            records.reserveCapacity(count)
            for i in 0..<count {
                records.append(try record(kind, index: i, world: world, folder: folder))
                done += 1
                progress?(done)
            }
            let manifest = directory.appendingPathComponent(kind.manifestName)
            try ManifestWriter.write(records, to: manifest)
            return manifest
        }
    }

    static func record(_ kind: Kind, index i: Int, world: ShapesWorld, folder: URL) throws -> DataRecord {
        func png(_ scene: Scene, _ suffix: String) throws -> ImageRef {
            let url = folder.appendingPathComponent(String(format: "%06d%@.png", i, suffix))
            try Image(tensor: world.render(scene).tensor()).writePNG(to: url)
            return .file(url)
        }
        switch kind {
        case .caption:
            let s = world.caption(at: i)
            return .caption(image: try png(s.scene, ""), text: s.text)
        case .t2i:
            let s = world.textToImage(at: i)
            return .textToImage(text: s.text, image: try png(s.scene, ""))
        case .edit:
            let s = world.edit(at: i)
            return .edit(
                source: try png(s.source, "_source"), instruction: s.instruction,
                target: try png(s.target, "_target"))
        case .interleaved:
            var n = 0
            let segments: [RecordSegment] = try world.interleaved(at: i).segments.map { segment in
                switch segment {
                case .text(let t): return .text(t)
                case .image(let scene):
                    defer { n += 1 }
                    return .image(try png(scene, "_\(n)"))
                }
            }
            return .interleaved(segments)
        }
    }
}
