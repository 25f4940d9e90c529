import ArgumentParser
import Foundation
import ReverieData

/// `reverie data tokenizer`: a byte-level BPE tokenizer trained on ShapesWorld's texts, written as tokenizer.json.
struct TokenizerDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train a byte-level BPE tokenizer on ShapesWorld texts and write it as tokenizer.json.",
        discussion: """
            The corpus is every caption, prompt, edit instruction and interleaved text of items 0..<count of the \
            world seeded --seed. Reverie's special tokens (<image>, <img>, </img>, <pad>, <eos>) take the first ids. \
            Recipes name the file under model.llm.tokenizer.
            """)

    @Option(help: "Output file (tokenizer.json).")
    var out: String

    @Option(help: "Vocabulary size: 5 special tokens + 256 bytes + merges.")
    var vocab = 400

    @Option(help: "Items of each kind in the corpus.")
    var count = 2000

    @Option(help: "Scene seed of the corpus.")
    var seed: UInt64 = 0

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
    }

    func run() throws {
        let world = ShapesWorld(seed: seed)
        let tokenizer = try world.tokenizer(vocabularySize: vocab, count: count)
        try tokenizer.write(to: URL(fileURLWithPath: out))
        let texts = world.texts(count: 200)
        let tokens = texts.reduce(0) { $0 + tokenizer.encode($1).count }
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        print(
            "\(out): \(tokenizer.vocabularySize) tokens; ShapesWorld texts average "
                + String(
                    format: "%.1f tokens (%.1f bytes)", Double(tokens) / Double(texts.count),
                    Double(bytes) / Double(texts.count)))
    }
}
