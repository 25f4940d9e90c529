import ReverieCore
import ReverieNN

/// Errors of the composed model: bad configurations and sequences it cannot lay out.
public enum MultimodalError: Error, CustomStringConvertible, Equatable {
    /// A configuration value that cannot work (names the key).
    case invalidConfiguration(key: String, detail: String)
    /// An example the model cannot take (image count, token ids, shapes).
    case invalidExample(detail: String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(key, detail): return "multimodal configuration '\(key)': \(detail)"
        case let .invalidExample(detail): return "multimodal example: \(detail)"
        }
    }
}

/// The kind of output head mapping the queries' final hidden states into the condition space.
public enum OutputHeadKind: String, Sendable, Equatable, ConfigurationChoice {
    /// One Linear layer `D → Dc`.
    case linear
    /// Linear → GELU → Linear, `D → hidden → Dc`.
    case mlp
}

/// How the model writes an image: the name of an `OutputModeRegistry` kind (`queries`, `autoregressive`, or a
/// registered one).
public struct OutputImageMode: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    /// `QueriesOutput`.
    public static let queries = OutputImageMode(rawValue: QueriesOutput.kind)
    /// `AutoregressiveOutput`.
    public static let autoregressive = OutputImageMode(rawValue: AutoregressiveOutput.kind)
}

/// The special tokens and output-side sizes of a `MultimodalModel`.
public struct MultimodalConfig: Sendable, Equatable {
    /// Id of the `<image>` placeholder: each one is replaced by the projected visual tokens of one input image.
    public var imageTokenId: Int
    /// Id of `<img>`, which opens an output image: K query embeddings follow it.
    public var imageBeginTokenId: Int
    /// How output images are produced.
    public var outputMode: OutputImageMode
    /// K, the number of output queries (and of condition tokens). Must be a perfect square s² whose side s
    /// divides the encoder's patch grid, because the regression target pools the grid to s × s.
    public var numQueries: Int
    /// The output head's kind.
    public var head: OutputHeadKind
    /// Hidden width of the `mlp` head (ignored by `linear`).
    public var headHidden: Int
    /// Learned positions added to every image's visual tokens (`visual_positions.*`), so the LLM knows where on
    /// the patch grid each token sits without recovering it from the features.
    public var visualPositions: VisualPositionKind
    /// Residual output: an output image that follows another image in the sequence (the source of an edit, or the
    /// previous output) predicts the change of that image's conditions; the head's output is added to them.
    public var residualConditions: Bool
    /// Source-informed queries: an output block that follows another image reads that image's conditions at its
    /// input too — query k gets `source_input` (a Linear Dc → D) of the image's condition token k added — so the
    /// token it rewrites is in front of it from the first layer (queries mode).
    public var sourceQueries: Bool
    /// A change head (`change_head`, a Linear D → 1 on every output query's hidden state): for an output image that
    /// follows another image, the logit that condition token k differs from that image's (`ChangeMask`). An edit
    /// keeps its source wherever the head says unchanged (`SourceKeeping`), instead of reading change off the
    /// predicted conditions (queries mode).
    public var changeHead = false
    /// Edits describe their result before drawing it: trained on `<image> instruction result <img>` (the target's
    /// caption as text targets), an edit's generation first writes that text greedily up to `<img>` and then draws
    /// with it in context (`MultimodalModel.describeEdit`).
    public var describeEdits = false
    /// Ids every sequence starts with, as the tokenizer's post-processor template puts them before a text
    /// (`<|begin_of_text|>` for Llama 3, `<s>` for Llama 2; none for Reverie's own tokenizers): a pretrained LLM reads
    /// every sequence as it was trained to, in training and generation alike.
    public var prefixTokenIds: [Int] = []

    public init(
        imageTokenId: Int, imageBeginTokenId: Int, outputMode: OutputImageMode = .queries,
        numQueries: Int, head: OutputHeadKind = .mlp, headHidden: Int = 128,
        visualPositions: VisualPositionKind = .none,
        residualConditions: Bool = false, sourceQueries: Bool = false
    ) {
        (self.imageTokenId, self.imageBeginTokenId, self.outputMode) = (imageTokenId, imageBeginTokenId, outputMode)
        (self.numQueries, self.head, self.headHidden) = (numQueries, head, headHidden)
        (self.visualPositions, self.residualConditions) = (visualPositions, residualConditions)
        self.sourceQueries = sourceQueries
    }

    /// s = √K, or nil when K is not a perfect square.
    public var querySide: Int? {
        guard numQueries > 0 else { return nil }
        let s = Int(Double(numQueries).squareRoot().rounded())
        return s * s == numQueries ? s : nil
    }
}

/// Maps the queries' final hidden states into the decoder's condition space: hidden [B, K, D] → [B, K, Dc].
public final class OutputHead: Module {
    public let kind: OutputHeadKind
    /// Set when `kind == .linear`.
    public let linear: Linear?
    /// Set when `kind == .mlp`.
    public let mlp: MLP?
    /// Dc, the condition width.
    public let outputDim: Int

    public init(kind: OutputHeadKind, inputDim: Int, outputDim: Int, hidden: Int, rng: inout RNG) throws {
        guard inputDim > 0, outputDim > 0, kind == .linear || hidden > 0 else {
            throw MultimodalError.invalidConfiguration(
                key: "head", detail: "sizes must be positive (in \(inputDim), out \(outputDim), hidden \(hidden))")
        }
        self.kind = kind
        self.outputDim = outputDim
        switch kind {
        case .linear:
            linear = try Linear(inFeatures: inputDim, outFeatures: outputDim, rng: &rng)
            mlp = nil
        case .mlp:
            linear = nil
            mlp = try MLP(dim: inputDim, hidden: hidden, outDim: outputDim, activation: .gelu, rng: &rng)
        }
    }

    override public func visit(_ v: inout ModuleVisitor) {
        v.child("linear", linear)
        v.child("mlp", mlp)
    }

    /// hidden [B, K, D] → conditions [B, K, Dc]
    public func callAsFunction(_ hidden: Tensor) throws -> Tensor {
        if let linear { return try linear(hidden) }
        if let mlp { return try mlp(hidden) }
        throw MultimodalError.invalidConfiguration(key: "head", detail: "no layer")
    }
}
