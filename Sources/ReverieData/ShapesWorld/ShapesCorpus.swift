extension ShapesWorld {
    /// Every text the world writes for items 0..<count: captions, text-to-image prompts, edit instructions and the
    /// text segments of interleaved sequences — the corpus a ShapesWorld tokenizer is trained on.
    public func texts(count: Int) -> [String] {
        var out: [String] = []
        out.reserveCapacity(count * 5)
        for i in 0..<max(count, 0) {
            out.append(caption(at: i).text)
            out.append(textToImage(at: i).text)
            out.append(edit(at: i).instruction)
            for case let .text(t) in interleaved(at: i).segments { out.append(t) }
        }
        return out
    }

    /// A byte-level BPE tokenizer (Reverie's special tokens first) trained on `texts(count:)`: with a vocabulary a
    /// little above 256 + the number of distinct words, every ShapesWorld word is one token.
    public func tokenizer(vocabularySize: Int, count: Int = 2000) throws -> Tokenizer {
        try TokenizerTrainer(vocabularySize: vocabularySize).train(on: texts(count: count))
    }
}
