/// The ids of the special tokens Reverie's sequences are built with (`<image>`, `<img>`, `</img>`, `<pad>`, `<eos>`).
public struct ReverieTokenIds: Sendable, Equatable {
    /// `<image>`: where an input image's visual tokens are spliced in.
    public let image: Int
    /// `<img>`: where the model starts an output image.
    public let imageBegin: Int
    /// `</img>`: where an output image ends.
    public let imageEnd: Int
    /// `<pad>`.
    public let pad: Int
    /// `<eos>`.
    public let end: Int
}

extension Tokenizer {
    /// The ids of Reverie's special tokens. Throws naming the first one this vocabulary lacks (a tokenizer trained
    /// by ``TokenizerTrainer`` with its default special tokens always has them, as ids 0…4).
    public func reverieTokenIds() throws -> ReverieTokenIds {
        func lookup(_ token: String) throws -> Int {
            guard let id = addedTokens.first(where: { $0.content == token })?.id ?? id(of: token) else {
                throw TokenizerError.invalidArgument(
                    operation: "Tokenizer.reverieTokenIds", detail: "the vocabulary has no '\(token)' token")
            }
            return id
        }
        return ReverieTokenIds(
            image: try lookup("<image>"), imageBegin: try lookup("<img>"),
            imageEnd: try lookup("</img>"), pad: try lookup("<pad>"), end: try lookup("<eos>"))
    }
}

extension Tokenizer {
    /// A copy with the tokens of `contents` it lacks added as special tokens after the largest id (in order), as
    /// transformers' `add_special_tokens` does; the model's embedding grows to ``vocabularySize``.
    public func adding(specialTokens contents: [String]) -> Tokenizer {
        var next = vocabularySize
        var added = addedTokens
        for content in contents where id(of: content) == nil && !added.contains(where: { $0.content == content }) {
            added.append(AddedToken(id: next, content: content, special: true))
            next += 1
        }
        return Tokenizer(
            model: model, addedTokens: added, pipeline: pipeline, trimOffsets: trimOffsets,
            hasPostProcessor: hasPostProcessor, hasDecoder: hasDecoder)
    }
}
