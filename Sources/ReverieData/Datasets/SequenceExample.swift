import ReverieCore

/// A record laid out as one token sequence, with the images it reads and the images it must draw.
public struct SequenceExample: Sendable {
    /// Token ids.
    public var tokens: [Int]
    /// 1 where the token is a prediction target (the text the model writes, `<img>`, `<eos>`), else 0.
    public var lossMask: [Float]
    /// Input images, one per `<image>` token, in order.
    public var inputImages: [Tensor]
    /// Target images, one per `<img>` token, in order.
    public var targetImages: [Tensor]
}

/// Lays records out as sequences:
///
/// - caption: `<image> text <eos>` — loss on the text and `<eos>`;
/// - text_to_image: `prompt <img>` — loss on `<img>`, the target image after it;
/// - edit: `<image> instruction <img>` — the source is the input, loss on `<img>`, the target after it; with a
///   result, `<image> instruction result <img>` — loss on the result's text and `<img>`;
/// - interleaved: text segments in order, each image as `<img>` (a target) — loss on everything after the first
///   text segment, which is the prompt.
///
/// How the model turns `<image>` into visual tokens and `<img>` into output queries is ReverieMultimodal's business.
public struct ExampleBuilder: Sendable {
    public let encoder: any TextEncoder
    public let images: any ImageLoader

    public init(encoder: any TextEncoder, images: any ImageLoader) {
        self.encoder = encoder
        self.images = images
    }

    public func build(_ record: DataRecord) throws -> SequenceExample {
        try layout(record) { try images.load($0) }
    }

    /// The record's token ids alone, no image loaded (e.g. to estimate its cost before building it).
    public func tokens(_ record: DataRecord) -> [Int] {
        (try? layout(record) { _ in nil })?.tokens ?? []
    }

    /// Lays `record` out, taking each image from `load` (nil: left out of the example's image lists).
    func layout(_ record: DataRecord, load: (ImageRef) throws -> Tensor?) throws -> SequenceExample {
        var ex = SequenceExample(tokens: [], lossMask: [], inputImages: [], targetImages: [])
        func append(_ ids: [Int], loss: Bool) {
            ex.tokens += ids
            ex.lossMask += Array(repeating: loss ? 1 : 0, count: ids.count)
        }
        switch record {
        case .caption(let image, let text):
            if let t = try load(image) { ex.inputImages.append(t) }
            append([encoder.imageToken], loss: false)
            append(encoder.encode(text) + [encoder.endToken], loss: true)
        case .textToImage(let text, let image):
            append(encoder.encode(text), loss: false)
            append([encoder.imageBeginToken], loss: true)
            if let t = try load(image) { ex.targetImages.append(t) }
        case .edit(let source, let instruction, let target, let result):
            if let t = try load(source) { ex.inputImages.append(t) }
            append([encoder.imageToken] + encoder.encode(instruction), loss: false)
            if let result { append(encoder.encode(" " + result), loss: true) }
            append([encoder.imageBeginToken], loss: true)
            if let t = try load(target) { ex.targetImages.append(t) }
        case .interleaved(let segments):
            for (i, segment) in segments.enumerated() {
                switch segment {
                case .text(let t): append(encoder.encode(i == 0 ? t : " " + t), loss: i > 0)
                case .image(let ref):
                    append([encoder.imageBeginToken], loss: true)
                    if let t = try load(ref) { ex.targetImages.append(t) }
                }
            }
            append([encoder.endToken], loss: true)
        }
        return ex
    }
}
