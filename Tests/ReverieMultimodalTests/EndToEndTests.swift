import Foundation
import ReverieCore
import ReverieData
import ReverieNN
import ReverieTestSupport
import XCTest

@testable import ReverieMultimodal

/// A character-level tokenizer over a fixed alphabet, after the four special ids of `TinyVocab`.
struct CharTokenizer {
    let alphabet: [Character]
    let ids: [Character: Int]

    init(texts: [String]) {
        alphabet = Array(Set(texts.joined())).sorted()
        ids = Dictionary(uniqueKeysWithValues: alphabet.enumerated().map { ($1, $0 + 4) })
    }

    var vocabSize: Int { alphabet.count + 4 }

    func encode(_ text: String) -> [Int] { text.compactMap { ids[$0] } }
}

final class EndToEndTests: XCTestCase {
    /// Caption and text-to-image examples from ShapesWorld: `<image> caption <eos>` (loss on the caption and
    /// `<eos>`) and `prompt <img>` (loss on `<img>`, the regression on the K conditions).
    func shapesExamples(count: Int) -> (tokenizer: CharTokenizer, examples: [MultimodalExample]) {
        let world = ShapesWorld(seed: 11)
        let captions = (0..<count).map { world.caption(at: $0) }
        let prompts = (0..<count).map { world.textToImage(at: count + $0) }
        let tokenizer = CharTokenizer(texts: captions.map(\.text) + prompts.map(\.text))
        var examples: [MultimodalExample] = []
        for (c, p) in zip(captions, prompts) {
            let text = tokenizer.encode(c.text)
            examples.append(
                MultimodalExample(
                    tokens: [TinyVocab.image] + text + [TinyVocab.eos],
                    lossMask: [0] + Array(repeating: 1, count: text.count + 1),
                    inputImages: [world.render(c.scene).tensor()]))
            let prompt = tokenizer.encode(p.text)
            examples.append(
                MultimodalExample(
                    tokens: prompt + [TinyVocab.imageBegin], lossMask: Array(repeating: 0, count: prompt.count) + [1],
                    targetImages: [world.render(p.scene).tensor()]))
        }
        return (tokenizer, examples)
    }

    func testTinyModelLearnsCaptionsAndConditions() throws {
        let start = Date()
        let (tokenizer, examples) = shapesExamples(count: 4)
        let model = try makeTinyModel(vocab: tokenizer.vocabSize)
        _ = try model.freeze(prefix: "vision_encoder")
        let optimizer = try AdamW(parameters: model.namedParameters(), lr: 3e-3, weightDecay: 0)
        let config = MultimodalLossConfig(ceWeight: 1, regressionWeight: 1, regression: .mse)
        var first: (ce: Float, reg: Float)?
        var last: (ce: Float, reg: Float) = (0, 0)
        for _ in 0..<80 {
            optimizer.zeroGrad()
            let losses = try model.losses(examples, config: config)
            try losses.total.backward()
            optimizer.step()
            last = (try losses.crossEntropy.item(), try losses.regression.item())
            if first == nil { first = last }
        }
        let initial = try XCTUnwrap(first)
        let seconds = Date().timeIntervalSince(start)
        print("end-to-end: ce \(initial.ce) → \(last.ce), regression \(initial.reg) → \(last.reg), \(seconds) s")
        XCTAssertLessThan(last.ce * 5, initial.ce)
        XCTAssertLessThan(last.reg * 5, initial.reg)

        // each prompt's conditions lie nearest its own target, not merely at the mean of the targets
        let t2i = examples.filter { !$0.targetImages.isEmpty }
        let targets = try model.targetConditions(images: stack(t2i.flatMap(\.targetImages), axis: 0))  // [4, K, Dc]
        for (i, ex) in t2i.enumerated() {
            let predicted = try XCTUnwrap(withNoGrad { try model.forward(ex) }.conditions)  // [1, K, Dc]
            let distances = try (0..<t2i.count).map { j in
                try mseLoss(predicted, targets.slice(axis: 0, start: j, end: j + 1)).item()
            }
            XCTAssertEqual(distances.firstIndex(of: distances.min() ?? 0), i, "prompt \(i): \(distances)")
            // generateConditions is the same single forward
            let prompt = Array(ex.tokens.dropLast())
            assertClose(try model.generateConditions(prompt: prompt), predicted, atol: 1e-6)
        }

        // greedy captions of the training images reproduce their captions
        for ex in examples where !ex.inputImages.isEmpty {
            let caption = try model.caption(image: ex.inputImages[0], maxTokens: 80, stopToken: TinyVocab.eos)
            XCTAssertEqual(caption, Array(ex.tokens.dropFirst()))
        }
        XCTAssertThrowsError(try model.generateConditions(prompt: []))
        XCTAssertThrowsError(try model.caption(image: Tensor(zeros: [3, 8, 8]), stopToken: TinyVocab.eos))
    }
}
