import ArgumentParser
import Foundation
import ReverieData

/// `reverie data tokenizer`: a byte-level BPE tokenizer trained on the texts of manifests (or of ShapesWorld), written
/// as tokenizer.json.
struct TokenizerDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train a byte-level BPE tokenizer on your manifests' texts (or ShapesWorld's) as tokenizer.json.",
        discussion: """
            With --manifest (repeatable), the corpus is every text of the manifests' records: captions, prompts, \
            edit instructions and results, interleaved texts. Without, it is every caption, prompt, edit \
            instruction and interleaved text of ShapesWorld items 0..<count of the world seeded --seed. Reverie's \
            special tokens (<image>, <img>, </img>, <pad>, <eos>) take the first ids. Recipes name the file under \
            model.llm.tokenizer.
            """)

    @Option(help: "A JSONL manifest whose texts form the corpus (repeatable).")
    var manifest: [String] = []

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
        // Manifest images need not exist to train on their texts.
        let corpus = try manifest.flatMap { path in
            try Manifest(contentsOf: URL(fileURLWithPath: path), checkFiles: false).records.flatMap(\.texts)
        }
        let tokenizer =
            manifest.isEmpty
            ? try world.tokenizer(vocabularySize: vocab, count: count)
            : try TokenizerTrainer(vocabularySize: vocab).train(on: corpus)
        try tokenizer.write(to: URL(fileURLWithPath: out))
        let texts = manifest.isEmpty ? world.texts(count: 200) : Array(corpus.prefix(1000))
        guard !texts.isEmpty else { throw ValidationError("the manifests hold no text") }
        let tokens = texts.reduce(0) { $0 + tokenizer.encode($1).count }
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        print(
            "\(out): \(tokenizer.vocabularySize) tokens; \(manifest.isEmpty ? "ShapesWorld" : "the corpus's") texts average "
                + String(
                    format: "%.1f tokens (%.1f bytes)", Double(tokens) / Double(texts.count),
                    Double(bytes) / Double(texts.count)))
    }
}
