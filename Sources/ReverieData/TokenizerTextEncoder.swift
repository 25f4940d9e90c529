/// A ``Tokenizer`` as the ``TextEncoder`` the data pipeline builds sequences with. Construction checks that the
/// vocabulary has Reverie's special tokens, so the id properties need no failure case.
public struct TokenizerTextEncoder: TextEncoder {
    public let tokenizer: Tokenizer
    public let ids: ReverieTokenIds

    /// Throws ``TokenizerError/invalidArgument(operation:detail:)`` naming a special token the vocabulary lacks.
    public init(_ tokenizer: Tokenizer) throws {
        self.tokenizer = tokenizer
        self.ids = try tokenizer.reverieTokenIds()
    }

    public func encode(_ text: String) -> [Int] { tokenizer.encode(text) }
    public func decode(_ ids: [Int]) -> String {
        (try? tokenizer.decode(ids.filter { (0..<vocabularySize).contains($0) }, skipSpecialTokens: true)) ?? ""
    }
    public var imageToken: Int { ids.image }
    public var imageBeginToken: Int { ids.imageBegin }
    public var padToken: Int { ids.pad }
    public var endToken: Int { ids.end }
    public var vocabularySize: Int { tokenizer.vocabularySize }
    public var sequencePrefix: [Int] { tokenizer.sequencePrefix }
}
