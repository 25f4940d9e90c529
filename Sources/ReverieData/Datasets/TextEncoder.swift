/// Text to token ids, and the ids of the special tokens sequences are built with. The BPE tokenizer implements
/// it; ``ByteTextEncoder`` is a dependency-free stand-in (one id per UTF-8 byte).
public protocol TextEncoder: Sendable {
    func encode(_ text: String) -> [Int]
    /// The text of generated ids; special tokens and ids outside the vocabulary are dropped.
    func decode(_ ids: [Int]) -> String
    /// Number of ids (embedding rows a model needs).
    var vocabularySize: Int { get }
    /// `<image>`: where an input image's visual tokens are spliced in.
    var imageToken: Int { get }
    /// `<img>`: where the model starts an output image.
    var imageBeginToken: Int { get }
    /// `<pad>`.
    var padToken: Int { get }
    /// `<eos>`.
    var endToken: Int { get }
    /// Ids a sequence starts with (a pretrained tokenizer's BOS); empty by default.
    var sequencePrefix: [Int] { get }
}

extension TextEncoder {
    public var sequencePrefix: [Int] { [] }
}

/// UTF-8 bytes as ids 0...255, then `<pad>` 256, `<eos>` 257, `<image>` 258, `<img>` 259.
public struct ByteTextEncoder: TextEncoder {
    public init() {}
    public func encode(_ text: String) -> [Int] { text.utf8.map(Int.init) }
    public func decode(_ ids: [Int]) -> String {
        String(decoding: ids.filter { (0..<256).contains($0) }.map(UInt8.init), as: UTF8.self)
    }
    public var padToken: Int { 256 }
    public var endToken: Int { 257 }
    public var imageToken: Int { 258 }
    public var imageBeginToken: Int { 259 }
    /// 260 ids in all.
    public var vocabularySize: Int { 260 }
}
