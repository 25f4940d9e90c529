import Foundation

/// A byte-level BPE tokenizer compatible with Hugging Face `tokenizers` (GPT-2 style `tokenizer.json`).
///
/// Encoding splits the text on added tokens (`<image>`, `<eos>`, …), pre-tokenizes the rest with GPT-2's split
/// pattern, maps each piece's UTF-8 bytes to the byte-level alphabet and applies the ranked merges. Ids match
/// `tokenizers`' `Tokenizer.encode(text).ids` for the configurations Reverie reads (see ``init(contentsOf:)``),
/// and `decode(encode(x)) == x` for any string.
public struct Tokenizer: Sendable {
    /// The special tokens Reverie's models rely on, in the order a freshly trained vocabulary gives them ids 0…4.
    public static let reverieSpecialTokens = ["<image>", "<img>", "</img>", "<pad>", "<eos>"]

    var model: BPEModel
    /// Added tokens in id order.
    public private(set) var addedTokens: [AddedToken]
    /// Normalizer, pre-tokenizer, template and decoder around the model.
    var pipeline: TokenizerPipeline
    /// The ByteLevel pre-tokenizer's option, kept so that saving reproduces the loaded file's behaviour.
    var trimOffsets: Bool
    /// Whether the file had a ByteLevel post-processor and decoder (saved back the same way).
    var hasPostProcessor: Bool
    var hasDecoder: Bool
    private var matcher: AddedTokenMatcher
    /// Ids of recently seen pieces (shared by copies; the model never changes after construction).
    private let cache = PieceCache()
    private var addedById: [Int: AddedToken]
    private var addedByContent: [String: AddedToken]

    init(
        model: BPEModel, addedTokens: [AddedToken], pipeline: TokenizerPipeline = .gpt2(addPrefixSpace: false),
        trimOffsets: Bool = true, hasPostProcessor: Bool = true, hasDecoder: Bool = true
    ) {
        self.model = model
        self.addedTokens = addedTokens.sorted { $0.id < $1.id }
        self.pipeline = pipeline
        self.trimOffsets = trimOffsets
        self.hasPostProcessor = hasPostProcessor
        self.hasDecoder = hasDecoder
        self.matcher = AddedTokenMatcher(addedTokens)
        self.addedById = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.addedByContent = Dictionary(addedTokens.map { ($0.content, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Number of ids: the model's vocabulary and the added tokens (one past the largest id).
    public var vocabularySize: Int { max(model.tokens.count, (addedTokens.map(\.id).max() ?? -1) + 1) }

    /// The id of a token string (an added token's content, or a byte-level vocabulary entry).
    public func id(of token: String) -> Int? { addedByContent[token]?.id ?? model.vocab[token] }

    /// The token string of an id (byte-level alphabet for vocabulary entries), or nil if unknown.
    public func token(of id: Int) -> String? {
        if let added = addedById[id] { return added.content }
        return id >= 0 && id < model.tokens.count ? model.tokens[id] : nil
    }

    /// The ranked merges, as (left, right) token strings.
    public var merges: [(String, String)] { model.merges }

    /// Whether the pre-tokenizer adds a space before the text (GPT-2's `add_prefix_space`).
    var addPrefixSpace: Bool { pipeline.preTokenizer.steps.first == .byteLevel(addPrefixSpace: true, useRegex: true) }

    /// The ids the post-processor's template puts before a text (`<|begin_of_text|>`, `<s>`), empty without one.
    public var sequencePrefix: [Int] {
        pipeline.template.prefix { $0 != .sequence }.flatMap { item -> [Int] in
            if case .special(let ids) = item { return ids }
            return []
        }
    }

    /// Token ids of `text`, without the special tokens a post-processor adds (`add_special_tokens=False`).
    public func encode(_ text: String) -> [Int] { encode(text, addSpecialTokens: false) }

    /// Token ids of `text`: added tokens matched in the raw text, the rest normalized, pre-tokenized and merged;
    /// with `addSpecialTokens`, inside the post-processor's template (`<s>`, `<|begin_of_text|>`), as `tokenizers`'
    /// `encode(text).ids`.
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        for (n, segment) in matcher.split(text).enumerated() {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let scalars):
                let byteLevel = pipeline.preTokenizer.byteLevel
                for scalars in pipeline.preTokenizer.pieces(pipeline.normalize(scalars), atStart: n == 0) {
                    let piece = String(scalars: scalars)
                    if let cached = cache.lookup(piece) {
                        ids.append(contentsOf: cached)
                    } else {
                        let pieceIds =
                            byteLevel ? model.tokenize(bytes: Array(piece.utf8)) : model.tokenize(scalars: scalars)
                        cache.store(piece, pieceIds)
                        ids.append(contentsOf: pieceIds)
                    }
                }
            }
        }
        guard addSpecialTokens else { return ids }
        return pipeline.template.flatMap { item -> [Int] in
            switch item {
            case .special(let special): return special
            case .sequence: return ids
            }
        }
    }

    /// The text of `ids`, as `tokenizers`' decoder chain produces it (for byte-level files: token characters map
    /// back to bytes, a token with a character outside the byte alphabet contributes its own UTF-8, and the bytes
    /// are read as UTF-8 with invalid sequences replaced by U+FFFD).
    /// Throws ``TokenizerError/unknownId(_:)`` for an id outside the vocabulary.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) throws -> String {
        var tokens: [String] = []
        for id in ids {
            if let added = addedById[id] {
                if skipSpecialTokens && added.special { continue }
                tokens.append(added.content)
            } else if id >= 0, id < model.tokens.count, let token = model.tokens[id] {
                tokens.append(token)
            } else {
                throw TokenizerError.unknownId(id)
            }
        }
        return pipeline.decode(tokens)
    }
}

/// A bounded, thread-safe memo of piece → ids, like `tokenizers`' BPE cache: words repeat, merges are the cost.
final class PieceCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: [Int]] = [:]
    private let capacity = 50_000

    func lookup(_ piece: String) -> [Int]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[piece]
    }

    func store(_ piece: String, _ ids: [Int]) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count < capacity { entries[piece] = ids }
    }
}
