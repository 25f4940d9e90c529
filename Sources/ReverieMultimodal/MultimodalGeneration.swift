import ReverieCore
import ReverieDiffusion
import ReverieLanguage
import ReverieNN

extension MultimodalModel {
    /// Greedy captioning: `<image> prompt` → up to `maxTokens` new token ids (KV-cached), stopping after
    /// `stopToken` (included in the result when emitted).
    ///
    /// - image: [3, H, W] (or [1, 3, H, W]) in [0, 1].
    /// - Throws: `MultimodalError.invalidExample` for a badly shaped image or ids outside the vocabulary.
    public func caption(image: Tensor, prompt: [Int] = [], maxTokens: Int = 64, stopToken: Int) throws -> [Int] {
        guard maxTokens > 0 else {
            throw MultimodalError.invalidExample(detail: "maxTokens \(maxTokens) must be positive")
        }
        let pixels = image.rank == 3 ? try image.reshape([1] + image.shape) : image  // [1, 3, H, W]
        guard pixels.rank == 4, pixels.shape[0] == 1 else {
            throw MultimodalError.invalidExample(detail: "image \(image.shape), expected [3, H, W]")
        }
        return try continueText(
            [config.imageTokenId] + prompt,
            images: [try pixels.reshape(Array(pixels.shape.dropFirst()))],
            maxTokens: maxTokens, stopToken: stopToken)
    }

    /// Greedy text after `tokens` (its `<image>` tokens reading `images`, [3, H, W] each): up to `maxTokens` new
    /// ids, KV-cached, stopping after `stopToken` (included when emitted).
    func continueText(_ tokens: [Int], images: [Tensor], maxTokens: Int, stopToken: Int) throws -> [Int] {
        let ex = MultimodalExample(
            tokens: tokens, lossMask: Array(repeating: 0, count: tokens.count),
            inputImages: images)
        try validate(ex, needTargets: false)
        return try withNoGrad {
            let (x, _, _) = try sequenceEmbeddings(ex)  // [1, L, D]
            return try llm.generate(
                inputEmbeddings: x, maxNewTokens: maxTokens, sampling: .greedy,
                stopTokens: [stopToken])
        }
    }

    /// What a model trained with described edits (`config.describeEdits`) writes after an edit's prompt
    /// (`<image> instruction`, `images` = [source]) before it opens the output image: its description of the
    /// result, greedy up to `<img>` (which is left out) or `maxTokens` ids. Empty for other models.
    ///
    /// - Throws: `MultimodalError.invalidExample` for ids outside the vocabulary or `<image>` tokens that do not
    ///   match the images given.
    public func describeEdit(prompt: [Int], images: [Tensor], maxTokens: Int = 64) throws -> [Int] {
        guard config.describeEdits, !images.isEmpty else { return [] }
        let said = try continueText(prompt, images: images, maxTokens: maxTokens, stopToken: config.imageBeginTokenId)
        return said.last == config.imageBeginTokenId ? Array(said.dropLast()) : said
    }

    /// Text to conditions → [1, K, Dc], ready for the decoder (`decoder`), which was trained on the same space.
    /// `queries`: `prompt <img>` plus the K queries, one forward. `autoregressive`: `prompt <img>`, then K steps with
    /// a KV cache, each predicted condition fed back through `condition_input`.
    ///
    /// Editing is the same call with the source image: `prompt = <image> instruction`, `images = [source]`.
    ///
    /// - images: one [3, H, W] tensor in [0, 1] per `<image>` token of the prompt.
    /// - drawn: the images already drawn for earlier `<img>` blocks of the prompt (interleaved output), [3, H, W].
    /// - Throws: `MultimodalError.invalidExample` for an empty prompt, ids outside the vocabulary, or `<image>`
    ///   tokens that do not match the images given.
    public func generateConditions(prompt: [Int], images: [Tensor] = [], drawn: [Tensor] = []) throws -> Tensor {
        try generateOutput(prompt: prompt, images: images, drawn: drawn).conditions
    }

    /// `generateConditions`, plus the change head's logits [1, K] for the block (nil without the head): where the
    /// model says the image it writes differs from the one it follows (`ChangeMask`). A model with described
    /// edits writes its description of an edit's result first (`describeEdit`), unless the caller already has it
    /// (`description`).
    public func generateOutput(
        prompt: [Int], images: [Tensor] = [], drawn: [Tensor] = [],
        description: [Int]? = nil
    ) throws -> (conditions: Tensor, change: Tensor?) {
        guard !prompt.isEmpty else { throw MultimodalError.invalidExample(detail: "the prompt is empty") }
        // An edit by a model that describes its results writes the description first and draws with it in context.
        let prompt = prompt + (try description ?? (drawn.isEmpty ? describeEdit(prompt: prompt, images: images) : []))
        let ex = MultimodalExample(
            tokens: prompt + [config.imageBeginTokenId],
            lossMask: Array(repeating: 0, count: prompt.count + 1), inputImages: images,
            targetImages: drawn)
        // A mode that writes the block one token at a time generates it itself.
        try validate(ex, needTargets: false)
        if let generated = try withNoGrad({ try outputMode.generate(self, prefix: { try sequenceEmbeddings(ex).0 }) }) {
            return (generated, nil)
        }
        return try withNoGrad {
            let out = try forward(batch: [ex], logits: false)[0]  // conditions and change logits; no text logits
            guard let all = out.conditions else {
                throw MultimodalError.invalidExample(detail: "no output queries in the sequence")
            }
            let n = all.shape[0]  // the block after the final <img>
            return (
                try all.slice(axis: 0, start: n - 1, end: n), try out.changeLogits?.slice(axis: 0, start: n - 1, end: n)
            )
        }
    }
}

extension MultimodalModel {
    /// Text to image: `generateConditions(prompt:)`, then the frozen decoder with classifier-free guidance against
    /// the null condition it was trained with → images [1, 3, H, W]. A decoder that takes a source latent gets the
    /// last input image's (an edit's source), so what the instruction leaves alone can stay put. With `keeping`,
    /// an edit's decoder keeps the source's latent wherever the model leaves the source alone (`keptRegion`: by the
    /// change head when the model has one, else by the predicted conditions' change).
    ///
    /// - Throws: `MultimodalError.invalidConfiguration` when the model has no decoder; the decoder's errors for
    ///   sizes or steps it cannot take.
    public func generateImage(
        prompt: [Int], images: [Tensor] = [], imageSize: (h: Int, w: Int), steps: Int,
        guidance: Float, sampler: any SamplerConfig = DDIMSampler.Config(), seed: UInt64,
        keeping: SourceKeeping? = nil, description: [Int]? = nil
    ) throws -> Tensor {
        let (conditions, change) = try generateOutput(prompt: prompt, images: images, description: description)
        return try draw(
            conditions: conditions, source: images.last, imageSize: imageSize, steps: steps,
            guidance: guidance, sampler: sampler, seed: seed, keeping: keeping, change: change)
    }

    /// The frozen decoder's image [1, 3, H, W] of `conditions` [1, K, Dc]: with a `source` image [3, H, W] (an
    /// edit's), a decoder that takes a source latent gets its latent, and `keeping` keeps its latent wherever the
    /// conditions leave the source's own alone (or, given the change head's logits `change` [1, K], wherever those
    /// say unchanged). `generateImage` draws the LLM's conditions this way; drawing a
    /// target image's own encoder conditions instead gives the decoder's ceiling for an edit
    /// (`reverie eval --capabilities edit_oracle`).
    ///
    /// - Throws: `MultimodalError.invalidConfiguration` when the model has no decoder; the decoder's errors for
    ///   sizes or steps it cannot take.
    public func draw(
        conditions: Tensor, source: Tensor? = nil, imageSize: (h: Int, w: Int), steps: Int,
        guidance: Float, sampler: any SamplerConfig = DDIMSampler.Config(), seed: UInt64,
        keeping: SourceKeeping? = nil, change: Tensor? = nil
    ) throws -> Tensor {
        guard let decoder else {
            throw MultimodalError.invalidConfiguration(key: "decoder", detail: "the model has no decoder")
        }
        let sourceLatent = try source.flatMap { image in
            decoder.sourceLatents ? try decoder.latents(images: image.unsqueeze(0)) : nil
        }
        let keep = try keeping.flatMap { keeping in
            try source.map {
                try keptRegion(conditions: conditions, source: $0.unsqueeze(0), keeping: keeping, change: change)
            }
        }
        return try decoder.decode(
            conditions: conditions, imageSize: imageSize, steps: steps, guidance: guidance,
            sampler: sampler, seed: seed, sourceLatent: sourceLatent, keep: keep)
    }
}
