/// A finite, randomly accessible list of records: a manifest, or ShapesWorld samples generated on demand.
public protocol DataSource: Sendable {
    /// A name for reports and errors (the manifest path, or "shapes:caption").
    var name: String { get }
    /// How many records one epoch holds.
    var count: Int { get }
    /// Record `index` in 0..<count.
    func record(at index: Int) throws -> DataRecord
}

/// The records of a JSONL manifest.
public struct ManifestSource: DataSource {
    public let manifest: Manifest

    public init(_ manifest: Manifest) { self.manifest = manifest }

    public var name: String { manifest.url.path }
    public var count: Int { manifest.records.count }

    public func record(at index: Int) throws -> DataRecord {
        guard manifest.records.indices.contains(index) else {
            throw DatasetError.badConfiguration("\(name): record \(index) out of 0..<\(count)")
        }
        return manifest.records[index]
    }
}

/// ShapesWorld samples of one kind, generated in memory: no files, images rendered when loaded.
public struct ShapesWorldSource: DataSource {
    /// The record kinds ShapesWorld makes.
    public enum Kind: String, CaseIterable, Sendable {
        case caption
        case textToImage = "t2i"
        case edit, interleaved
    }

    public let world: ShapesWorld
    public let kind: Kind
    public let count: Int

    public init(world: ShapesWorld, kind: Kind, count: Int) {
        self.world = world
        self.kind = kind
        self.count = max(count, 0)
    }

    public var name: String { "shapes:\(kind.rawValue)" }

    public func record(at index: Int) throws -> DataRecord {
        switch kind {
        case .caption:
            let s = world.caption(at: index)
            return .caption(image: .scene(s.scene), text: s.text)
        case .textToImage:
            let s = world.textToImage(at: index)
            return .textToImage(text: s.text, image: .scene(s.scene))
        case .edit:
            let s = world.edit(at: index)
            return .edit(source: .scene(s.source), instruction: s.instruction, target: .scene(s.target))
        case .interleaved:
            return .interleaved(
                world.interleaved(at: index).segments.map {
                    switch $0 {
                    case .text(let t): return .text(t)
                    case .image(let s): return .image(.scene(s))
                    }
                })
        }
    }
}
