/// Batches from a weighted mixture of sources, in a deterministic order, with an exact resume point.
///
/// ```swift
/// let world = ShapesWorld(seed: 1)
/// var loader = try DataLoader(
///     sources: [ShapesWorldSource(world: world, kind: .caption, count: 1000),
///               ShapesWorldSource(world: world, kind: .edit, count: 1000)],
///     weights: [1, 2], builder: ExampleBuilder(encoder: ByteTextEncoder(), images: SceneImageLoader()),
///     batchSize: 8, seed: 7)
/// let batch = try loader.next()
/// let saved = loader.position          // store in the checkpoint; `restore(saved)` continues exactly
/// ```
/// A record whose images fail to load is an error naming the file, or with `skipBad` is skipped, counted in
/// ``skippedRecords`` and replaced by the next draw.
public struct DataLoader: Sendable {
    public let sources: [any DataSource]
    public let builder: ExampleBuilder
    public let batchSize: Int
    public let maxLength: Int?
    public let skipBad: Bool
    private var sampler: MixtureSampler
    /// Records skipped under `skipBad`: (source name, record index, reason).
    public private(set) var skippedRecords: [(source: String, index: Int, reason: String)] = []

    public init(
        sources: [any DataSource], weights: [Double], builder: ExampleBuilder, batchSize: Int,
        seed: UInt64, maxLength: Int? = nil, skipBad: Bool = false
    ) throws {
        guard batchSize > 0 else {
            throw DatasetError.badConfiguration("batch size must be positive, got \(batchSize)")
        }
        sampler = try MixtureSampler(counts: sources.map(\.count), weights: weights, seed: seed)
        self.sources = sources
        self.builder = builder
        self.batchSize = batchSize
        self.maxLength = maxLength
        self.skipBad = skipBad
    }

    /// Where the loader is; saving this and calling ``restore(_:)`` later continues the same stream.
    public var position: LoaderPosition { sampler.position }

    /// Continues from a saved ``position``.
    public mutating func restore(_ position: LoaderPosition) throws { try sampler.restore(position) }

    /// The next batch.
    public mutating func next() throws -> Batch {
        var examples: [SequenceExample] = [], origins: [(source: Int, index: Int)] = []
        var failuresInARow = 0
        while examples.count < batchSize {
            let (k, i) = sampler.next()
            do {
                examples.append(try builder.build(try sources[k].record(at: i)))
                origins.append((k, i))
                failuresInARow = 0
            } catch {
                guard skipBad else { throw error }
                skippedRecords.append((sources[k].name, i, "\(error)"))
                failuresInARow += 1
                // Every record failing would loop forever: give up after a generous run of failures.
                if failuresInARow >= 1000 {
                    throw DatasetError.badConfiguration("1000 records in a row failed to load; last: \(error)")
                }
            }
        }
        return Batch(examples, origins: origins, pad: builder.encoder.padToken, maxLength: maxLength)
    }
}
